"""Unit tests of the deduplicator: ids are marked done only after every output is acknowledged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stream_app.dedup import Deduplicator
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when told."""
    return FakeClock(1_000.0)


@pytest.fixture
def table() -> dict[str, Any]:
    """The done-ids table, as a plain dict."""
    return {}


@pytest.fixture
def dedup(table: dict[str, Any], clock: FakeClock) -> Deduplicator:
    """A deduplicator with a one-hour TTL over the dict table and the clock."""
    return Deduplicator(table, ttl_seconds=3600, clock=clock)


def future() -> asyncio.Future[None]:
    """Return a pending future on the running loop."""
    return asyncio.get_running_loop().create_future()


async def test_a_new_id_is_not_seen(dedup: Deduplicator) -> None:
    """An id never tracked is not a duplicate."""
    assert not dedup.seen("n1")
    assert dedup.pending == 0


async def test_a_pending_id_counts_as_seen_but_is_not_marked(
    dedup: Deduplicator, table: dict[str, Any]
) -> None:
    """While its acks are outstanding an id is seen, so redeliveries meanwhile are skipped."""
    ack = future()
    dedup.track("n1", [ack])
    assert dedup.seen("n1")
    assert dedup.pending == 1
    assert table == {}


async def test_an_id_is_marked_once_all_its_acks_are_done(
    dedup: Deduplicator, table: dict[str, Any], clock: FakeClock
) -> None:
    """The id is written to the table, with the time in ms, only when its last ack is done."""
    first, second = future(), future()
    dedup.track("n1", [first, second])
    first.set_result(None)
    assert dedup.settle() == 0
    assert table == {}
    clock.now = 1_002.5
    second.set_result(None)
    assert dedup.settle() == 1
    assert table == {"n1": 1_002_500}
    assert dedup.pending == 0
    assert dedup.seen("n1")


async def test_an_id_without_outputs_is_marked_at_once(
    dedup: Deduplicator, table: dict[str, Any]
) -> None:
    """A notification that produced nothing to acknowledge is done when tracked."""
    dedup.track("n1", [])
    assert table == {"n1": 1_000_000}
    assert dedup.pending == 0


async def test_plain_values_count_as_acknowledged(
    dedup: Deduplicator, table: dict[str, Any]
) -> None:
    """Acks that are not futures (already delivered metadata) count as done."""
    dedup.track("n1", [object(), None])
    assert list(table) == ["n1"]


async def test_ids_are_marked_in_arrival_order(dedup: Deduplicator, table: dict[str, Any]) -> None:
    """A later id whose acks are done waits for an earlier one still pending."""
    early, late = future(), future()
    dedup.track("n1", [early])
    dedup.track("n2", [late])
    late.set_result(None)
    assert dedup.settle() == 0
    assert table == {}
    assert dedup.seen("n2")
    early.set_result(None)
    assert dedup.settle() == 2
    assert list(table) == ["n1", "n2"]
    assert dedup.pending == 0


async def test_settle_counts_only_what_it_marked(dedup: Deduplicator) -> None:
    """settle returns how many ids it marked in this call, and 0 when there is nothing new."""
    acks = [future(), future(), future()]
    for number, ack in enumerate(acks):
        dedup.track(f"n{number}", [ack])
    acks[0].set_result(None)
    acks[1].set_result(None)
    assert dedup.settle() == 2
    assert dedup.settle() == 0
    assert dedup.pending == 1


@pytest.mark.parametrize("outcome", ["exception", "cancelled"])
async def test_a_failed_ack_never_marks(
    dedup: Deduplicator, table: dict[str, Any], outcome: str
) -> None:
    """An ack that failed or was cancelled leaves the id unmarked."""
    ok, failed = future(), future()
    dedup.track("n1", [ok, failed])
    ok.set_result(None)
    if outcome == "exception":
        failed.set_exception(RuntimeError("broker said no"))
    else:
        failed.cancel()
    assert dedup.settle() == 0
    assert table == {}
    if outcome == "exception":
        assert isinstance(failed.exception(), RuntimeError)


async def test_a_marked_id_is_seen_until_its_ttl_expires(
    dedup: Deduplicator, clock: FakeClock
) -> None:
    """A done id stays a duplicate for the TTL, then is new again."""
    dedup.track("n1", [])
    clock.advance(3599.999)
    assert dedup.seen("n1")
    clock.advance(0.001)
    assert not dedup.seen("n1")


async def test_an_id_marked_by_an_earlier_run_is_seen(
    table: dict[str, Any], clock: FakeClock
) -> None:
    """The table survives restarts: ids marked before are duplicates for a new deduplicator."""
    table["n1"] = 999_000
    assert Deduplicator(table, ttl_seconds=60, clock=clock).seen("n1")
    assert not Deduplicator(table, ttl_seconds=1, clock=clock).seen("n1")


async def test_a_failed_ack_does_not_hold_back_later_ids(
    dedup: Deduplicator, table: dict[str, Any]
) -> None:
    """Ids behind one whose send failed are still marked once their own acks are done."""
    failed, ok = future(), future()
    dedup.track("n1", [failed])
    dedup.track("n2", [ok])
    failed.set_exception(RuntimeError("broker said no"))
    ok.set_result(None)
    dedup.settle()
    assert "n1" not in table
    assert "n2" in table


async def test_an_id_whose_send_failed_is_not_a_duplicate(dedup: Deduplicator) -> None:
    """A notification whose outputs were never acknowledged is handled again when redelivered."""
    failed = future()
    dedup.track("n1", [failed])
    failed.set_exception(RuntimeError("broker said no"))
    dedup.settle()
    assert not dedup.seen("n1")
