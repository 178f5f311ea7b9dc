"""The ledger's retention on a fake clock: expired ids are absent, then deleted by partition."""

from __future__ import annotations

from typing import Any

from stream_app.writer.ledger import RESCAN_SECONDS, Ledger
from tests.fakes.clock import FakeClock

DAY = 24 * 3600.0


def ledger(clock: FakeClock, table: dict[str, Any], **options: Any) -> Ledger:
    """Return a ledger with a 30-day TTL that scans hourly."""
    return Ledger(table, ttl_seconds=30 * DAY, clock=clock, scan_every=3600.0, **options)


def test_an_id_is_present_until_the_ttl_then_absent(clock: FakeClock) -> None:
    """The entry counts for 30 days, then is treated as absent before anything deletes it."""
    table: dict[str, Any] = {}
    entries = ledger(clock, table)
    entries.record("cmd-1", partition=2)
    assert table["cmd-1"] == [int(clock() * 1000), 2]
    clock.advance(30 * DAY - 1)
    assert "cmd-1" in entries
    clock.advance(1)
    assert "cmd-1" not in entries
    assert "cmd-1" in table


def test_expired_entries_are_deleted_only_by_their_own_partition_in_batches(
    clock: FakeClock,
) -> None:
    """Partition 1's commands delete partition 1's expired entries, `batch` per command."""
    table: dict[str, Any] = {}
    entries = ledger(clock, table, batch=2)
    for n in range(3):
        entries.record(f"p1-{n}", partition=1)
    entries.record("p0-0", partition=0)
    clock.advance(31 * DAY)
    assert entries.tidy(partition=1) == 2
    assert sorted(table) == ["p0-0", "p1-2"]
    assert entries.tidy(partition=1) == 1
    assert entries.tidy(partition=1) == 0
    assert entries.tidy(partition=0) == 1
    assert table == {}


def test_fresh_entries_are_kept(clock: FakeClock) -> None:
    """An entry younger than the TTL survives a scan."""
    table: dict[str, Any] = {}
    entries = ledger(clock, table)
    entries.record("old", partition=0)
    clock.advance(29 * DAY)
    entries.record("new", partition=0)
    clock.advance(2 * DAY)
    assert entries.tidy(partition=0) == 1
    assert list(table) == ["new"]


def test_an_entry_recorded_again_after_the_scan_is_not_deleted(clock: FakeClock) -> None:
    """A forced resend re-records the id; the stale candidate no longer matches and is skipped."""
    table: dict[str, Any] = {}
    entries = ledger(clock, table, batch=1)
    entries.record("a", partition=0)
    entries.record("b", partition=0)
    clock.advance(31 * DAY)
    assert entries.tidy(partition=0) == 1  # the scan found both; "a" is deleted
    entries.record("b", partition=0)
    assert entries.tidy(partition=0) == 0
    assert "b" in entries


def test_entries_expiring_after_a_scan_wait_for_the_next_one(clock: FakeClock) -> None:
    """Scans run every `scan_every` seconds, not on every command; absent meanwhile anyway."""
    table: dict[str, Any] = {}
    sizes: list[int] = []
    entries = ledger(clock, table, on_scan=sizes.append)
    entries.record("a", partition=0)
    assert entries.tidy(partition=0) == 0
    clock.advance(30 * DAY - 1)
    assert entries.tidy(partition=0) == 0  # a scan one second before "a" expires
    clock.advance(2)
    assert "a" not in entries
    assert entries.tidy(partition=0) == 0  # no scan due yet
    clock.advance(3600)
    assert entries.tidy(partition=0) == 1
    assert sizes == [1, 1, 1]


def test_a_scan_keeps_at_most_max_candidates_and_rescans_soon(clock: FakeClock) -> None:
    """With more expired entries than it may hold, the next scan comes after a minute."""
    table: dict[str, Any] = {}
    sizes: list[int] = []
    entries = ledger(clock, table, max_candidates=2, on_scan=sizes.append)
    for n in range(5):
        entries.record(f"c{n}", partition=0)
    clock.advance(31 * DAY)
    assert entries.tidy(partition=0) == 2
    assert entries.tidy(partition=0) == 0
    clock.advance(RESCAN_SECONDS)
    assert entries.tidy(partition=0) == 2
    assert sizes == [5, 3]


def test_entries_without_a_partition_are_honoured_but_never_deleted(clock: FakeClock) -> None:
    """A plain accept time (written before retention) counts until the TTL and stays."""
    table: dict[str, Any] = {"legacy": int(clock() * 1000)}
    entries = ledger(clock, table)
    assert "legacy" in entries
    clock.advance(31 * DAY)
    assert "legacy" not in entries
    assert entries.tidy(partition=0) == 0
    assert "legacy" in table
