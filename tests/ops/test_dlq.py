"""Broker-free tests of the dead-letter selection, resolutions, time arguments and output."""

from __future__ import annotations

import io
from collections.abc import Callable
from types import SimpleNamespace

import orjson
import pytest
from rich.console import Console

from intercom_stream.ops import dlq
from intercom_stream.ops.exporter import OpsMetrics
from intercom_stream.ops.render import Progress, rows
from intercom_stream.ops.timespec import iso, parse_instant
from intercom_stream.settings import Settings
from schemas import DeadLetter, RecordHeader

NOW = 1_763_700_000.0


def entry(
    ident: str, stage: str = "writer", topic: str = "contact.user.created", **kw: object
) -> dlq.Entry:
    """Return an entry failed at NOW - 60 s unless told otherwise."""
    letter = DeadLetter.model_validate(
        {
            "stage": stage, "reason": "r", "error_type": kw.pop("error_type", "NotFoundError"),
            "error_message": "m", "source_topic": "t.commands", "payload": b"{}",
            "headers": [RecordHeader(key="intercom-topic", value=topic.encode())],
            "failed_at_ms": kw.pop("failed_at_ms", int((NOW - 60) * 1000)),
        }
    )  # fmt: skip
    return dlq.Entry(ident, 0, letter, (), kw.pop("resolution", None))  # type: ignore[arg-type]


def test_filters_hide_resolved_unless_all_and_ids_select_even_resolved() -> None:
    """Stage, error type, topic glob and since filter; --all shows resolved; ids pick exactly."""
    done = {"action": "requeued"}
    found = dlq.Inventory([entry("0:1"), entry("0:2", "handler", "conversation.user.created"),
                           entry("0:3", resolution=done)])  # fmt: skip
    ids = lambda s: [e.id for e in found.select(s)]  # noqa: E731
    assert ids(dlq.Selection()) == ["0:1", "0:2"]
    assert ids(dlq.Selection(include_resolved=True)) == ["0:1", "0:2", "0:3"]
    assert ids(dlq.Selection(stage="handler")) == ["0:2"]
    assert ids(dlq.Selection(topic="conversation.*")) == ["0:2"]
    assert ids(dlq.Selection(error_type="ValueError")) == []
    assert ids(dlq.Selection(since_ms=int(NOW * 1000))) == []
    assert ids(dlq.Selection(ids=("0:3",))) == ["0:3"]


def test_the_latest_resolution_wins_and_a_tombstone_clears_it() -> None:
    """Compaction semantics: last value per key; a null value removes the key."""
    record = lambda k, v: SimpleNamespace(key=k, value=v)  # noqa: E731
    found = dlq.latest_resolutions([
        record(b"0:1", orjson.dumps({"action": "discarded"})),
        record(b"0:1", orjson.dumps({"action": "requeued"})),
        record(b"0:2", orjson.dumps({"action": "discarded"})),
        record(b"0:2", None),
    ])  # fmt: skip
    assert found == {"0:1": {"action": "requeued"}}


def test_oldest_unresolved_age_ignores_resolved_letters() -> None:
    """The age is of the oldest letter nobody requeued or discarded yet."""
    old = entry("0:1", failed_at_ms=int((NOW - 600) * 1000), resolution={"action": "requeued"})
    found = dlq.Inventory([old, entry("0:2")])
    assert dlq.oldest_unresolved_age(found, NOW) == pytest.approx(60)
    assert dlq.oldest_unresolved_age(dlq.Inventory(), NOW) == 0


def test_time_arguments_are_ages_or_iso_in_utc() -> None:
    """30m is relative to now; a zone-less ISO time is UTC, never the local zone."""
    assert parse_instant("30m", NOW) == int((NOW - 1800) * 1000)
    assert parse_instant("2025-11-21T04:40:00", NOW) == parse_instant("2025-11-21T04:40:00Z", NOW)
    assert iso(parse_instant("2025-11-21T04:40:00+01:00", NOW)) == "2025-11-21T03:40:00.000Z"
    with pytest.raises(ValueError, match="neither ISO"):
        parse_instant("yesterday", NOW)


def test_without_a_terminal_progress_is_plain_lines_and_rows_are_tab_separated() -> None:
    """No escape codes or carriage returns: a line per second of a fake clock, then a final one."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    clock = iter([0.0, 0.5, 1.5, 1.5, 1.5, 2.0, 2.0]).__next__
    with Progress(console, "replay", 3, clock=clock) as progress:
        for _ in range(3):
            progress.advance()
    rows(console, [{"id": "0:1", "stage": "writer"}], ["id", "stage"], as_json=False)
    assert out.getvalue().splitlines() == [
        "replay: 2/3 (1.3/s)", "replay: 3/3 (1.5/s)", "id\tstage", "0:1\twriter",
    ]  # fmt: skip


def test_the_exporter_shows_unresolved_letters_by_stage_and_the_oldest_age(
    make_settings: Callable[..., Settings],
) -> None:
    """Resolved letters are not counted; every stage has a sample, zero when none."""
    metrics = OpsMetrics(make_settings(), clock=lambda: NOW)
    done = {"action": "discarded"}
    metrics.show(dlq.Inventory([entry("0:1"), entry("0:2", resolution=done)], ["0:3"]), 7)
    value = metrics.registry.get_sample_value
    assert value("intercom_stream_dlq_unresolved", {"stage": "writer"}) == 1
    assert value("intercom_stream_dlq_unresolved", {"stage": "parse"}) == 0
    assert value("intercom_stream_dlq_oldest_unresolved_age_seconds") == pytest.approx(60)
    assert (
        value("intercom_stream_dlq_records"),
        value("intercom_stream_replay_remaining_records"),
    ) == (3, 7)


def test_on_a_terminal_progress_is_a_bar_and_rows_a_table() -> None:
    """The rich path renders without error: a bar with counts, a table with the columns."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with Progress(console, "requeue", 2) as progress:
        progress.advance(2)
    rows(console, [{"id": "0:1", "stage": "writer"}], ["id", "stage"], as_json=False)
    text = out.getvalue()
    assert "2/2" in text
    assert "│ 0:1 │ writer │" in text
