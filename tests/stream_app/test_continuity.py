"""Unit tests of the continuity check: a skipped record is read again and handled first."""

from __future__ import annotations

import pytest

from stream_app.continuity import Continuity
from stream_app.errors import RecordsMissingError
from stream_app.source import Source


def record(offset: int, partition: int = 0) -> Source:
    """Return a record of the test topic at the offset."""
    return Source("t", partition, offset, b"k", f"v{offset}".encode())


class Log:
    """A partition log with a committed offset, counting the ranges read again."""

    def __init__(self, committed: int = 0, fail: bool = False) -> None:
        """Start with the committed offset; `fail` makes every read raise."""
        self.committed = committed
        self.fail = fail
        self.reads: list[tuple[int, int, int]] = []

    async def start_offset(self, topic: str, partition: int) -> int:
        """Return the committed offset."""
        return self.committed

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Source]:
        """Return the records of the range, or fail like an unreachable broker."""
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.reads.append((partition, start, end))
        return [record(offset, partition) for offset in range(start, end)]


async def feed_all(continuity: Continuity, offsets: list[int], partition: int = 0) -> list[int]:
    """Deliver records at the offsets and return the offsets handled, in order."""
    handled: list[int] = []

    async def handle(source: Source) -> None:
        handled.append(source.offset)

    for offset in offsets:
        await continuity.feed(record(offset, partition), handle)
    return handled


async def test_contiguous_records_are_handled_without_reading_again() -> None:
    """Offsets starting at the committed one, one after another, need nothing extra."""
    log = Log(committed=5)
    assert await feed_all(Continuity(log), [5, 6, 7, 8]) == [5, 6, 7, 8]
    assert log.reads == []


async def test_a_jump_mid_stream_reads_the_skipped_range_first() -> None:
    """Offsets 3 and 4 never arrived: they are read, counted and handled before offset 5."""
    log, counted = Log(committed=0), list[int]()
    continuity = Continuity(log, counted.append)
    assert await feed_all(continuity, [0, 1, 2, 5, 6]) == [0, 1, 2, 3, 4, 5, 6]
    assert log.reads == [(0, 3, 5)]
    assert counted == [2]


async def test_a_first_record_past_the_committed_offset_reads_from_the_committed_one() -> None:
    """After a rebalance the stream began at 326 although the group had committed 323."""
    log = Log(committed=323)
    assert await feed_all(Continuity(log), [326, 327]) == [323, 324, 325, 326, 327]
    assert log.reads == [(0, 323, 326)]


async def test_a_redelivered_record_is_handled_again_without_reading() -> None:
    """A record delivered twice goes to the pipeline twice (dedup decides); nothing is read."""
    log = Log(committed=10)
    assert await feed_all(Continuity(log), [10, 11, 11, 12]) == [10, 11, 11, 12]
    assert log.reads == []


async def test_partitions_are_tracked_separately() -> None:
    """Each partition has its own expected offset."""
    log = Log(committed=0)
    continuity = Continuity(log)
    assert await feed_all(continuity, [0, 1], partition=0) == [0, 1]
    assert await feed_all(continuity, [0, 2], partition=1) == [0, 1, 2]
    assert log.reads == [(1, 1, 2)]


async def test_an_unreadable_range_raises_records_missing() -> None:
    """When the skipped range cannot be read, the record is not handled and the error says so."""
    continuity = Continuity(Log(committed=0, fail=True))
    handled: list[int] = []

    async def handle(source: Source) -> None:
        handled.append(source.offset)

    with pytest.raises(RecordsMissingError, match="broker unreachable"):
        await continuity.feed(record(4), handle)
    assert handled == []


async def test_a_range_read_again_is_acknowledged_once_handled_before_the_record() -> None:
    """faust never delivered 3 and 4, so it is told they are done, after them and before 5."""
    events: list[object] = []

    async def acknowledge(topic: str, partition: int, start: int, end: int) -> None:
        events.append((topic, partition, start, end))

    async def handle(source: Source) -> None:
        events.append(source.offset)

    continuity = Continuity(Log(committed=0), acknowledge=acknowledge)
    for offset in (0, 1, 2, 5, 6):
        await continuity.feed(record(offset), handle)
    assert events == [0, 1, 2, 3, 4, ("t", 0, 3, 5), 5, 6]


async def test_the_watermark_follows_the_highest_offset_handed_to_the_handler() -> None:
    """A redelivery from an earlier offset does not lower it; a jump raises it past the range."""
    heard: list[tuple[str, int, int]] = []
    continuity = Continuity(Log(committed=0), on_advance=lambda *a: heard.append(a))
    await feed_all(continuity, [0, 1, 0, 3])
    assert [below for _, _, below in heard] == [1, 2, 2, 4]
