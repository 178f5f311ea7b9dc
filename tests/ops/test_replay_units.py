"""Broker-free tests of replay headers, pacing and the audit history."""

from __future__ import annotations

from types import SimpleNamespace

from intercom_stream.cli import parser
from intercom_stream.ops import replay_audit
from intercom_stream.ops.replay_cli import DEFAULT_RATE
from intercom_stream.ops.replay_plan import Selection
from intercom_stream.ops.replay_run import MAX_REPLAY_COUNT, Pacer, replay_headers
from schemas import headers
from tests.fakes.clock import FakeClock


def record(*pairs: tuple[str, bytes]) -> SimpleNamespace:
    """Return a consumed-record stand-in with the headers."""
    return SimpleNamespace(headers=list(pairs), value=b"{}")


def test_replayed_headers_keep_the_original_and_replace_earlier_replay_marks() -> None:
    """The signature stays; replay, id, count (one more) and trigger are set once."""
    original = record(
        (headers.SIGNATURE, b"sha1=ab"), (headers.REPLAY_COUNT, b"2"), (headers.REPLAY, b"true")
    )
    found = replay_headers(original, "r-1", force=True)
    assert found == [
        (headers.SIGNATURE, b"sha1=ab"), (headers.REPLAY, b"true"), (headers.REPLAY_ID, b"r-1"),
        (headers.REPLAY_COUNT, b"3"), (headers.REPLAY_TRIGGER, b"MANUAL"),
        (headers.REPLAY_FORCE_RESEND, b"true"),
    ]  # fmt: skip
    looped = record((headers.REPLAY_COUNT, str(MAX_REPLAY_COUNT).encode()))
    assert replay_headers(looped, "r-2", force=False) is None


async def test_the_pacer_spaces_records_by_the_rate_on_an_injected_clock() -> None:
    """At 4/s the fifth record waits until one second after the first."""
    clock = FakeClock(100.0)
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await pacer.wait()
    assert clock.now == 101.0
    assert len(clock.sleeps) == 4


def test_history_folds_a_replay_into_one_row_with_its_outcome() -> None:
    """Started, checkpoint, interrupted, resumed, finished: one row, finished, one resume."""
    opening = replay_audit.started("r-1", Selection(topics=("conversation.*",)), {0: (0, 9)},
                                   {"force_resend": False, "selected": 9}, 1_000)  # fmt: skip
    later = [
        {"replay_id": "r-1", "event": "interrupted", "at_ms": 2_000, "sent": 4},
        {"replay_id": "r-1", "event": "resumed", "at_ms": 3_000, "resumes": 1},
        {"replay_id": "r-1", "event": "finished", "at_ms": 4_000, "sent": 9},
        {**opening, "replay_id": "r-2", "at_ms": 5_000},
    ]
    rows = replay_audit.history_rows([opening, *later])
    assert [(r["replay_id"], r["outcome"], r["sent"], r["resumes"]) for r in rows] == [
        ("r-1", "finished", 9, 1), ("r-2", "unfinished", 0, 0),
    ]  # fmt: skip
    assert rows[0]["selection"] == "topics=conversation.*"
    assert rows[0]["started_at"] == "1970-01-01T00:00:01.000Z"


def test_a_replay_is_paced_by_default_and_rate_zero_lifts_the_limit() -> None:
    """Without --rate a replay writes at DEFAULT_RATE; --rate 0 means no limit at all."""
    args = parser().parse_args(["replay", "--since", "1h"])
    assert args.rate == DEFAULT_RATE == 1000.0
    unlimited = parser().parse_args(["replay", "--since", "1h", "--rate", "0"])
    assert unlimited.rate == 0.0


async def test_a_pacer_with_rate_zero_never_sleeps() -> None:
    """Rate 0 (the operator lifting the limit) sends as fast as the producer takes records."""
    clock = FakeClock(100.0)
    pacer = Pacer(0.0, clock=clock, sleep=clock.sleep)
    for _ in range(1_000):
        await pacer.wait()
    assert clock.sleeps == []
