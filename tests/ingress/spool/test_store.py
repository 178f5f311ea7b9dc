"""The spool: durable order, group commit, torn tails, recovery, rolling and failure."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingress.errors import SpoolUnavailableError
from ingress.spool import Spool, frames, segments
from intercom_stream.errors import ConfigurationError


async def spool_all(spool: Spool, payloads: list[bytes]) -> None:
    """Append payloads concurrently (one group commit) and wait until all are durable."""
    pending = [spool.append(payload)[1] for payload in payloads]
    for durable in pending:
        await durable


async def drain_all(spool: Spool) -> list[bytes]:
    """Read and mark drained everything committed, returning the payloads in order."""
    drained: list[bytes] = []
    while spool.depth:
        entries = await spool.read(3)
        await spool.mark_drained(entries)
        drained += [entry.payload for entry in entries]
    return drained


@pytest.fixture
async def spool(tmp_path: Path):
    """An open spool in a fresh directory."""
    opened = Spool(tmp_path / "spool")
    await opened.open()
    yield opened
    await opened.close()


async def test_payloads_drain_in_arrival_order(spool: Spool) -> None:
    """Whatever is appended comes out in the same order, and the depth counts it."""
    payloads = [f"n{i}".encode() for i in range(10)]
    await spool_all(spool, payloads)
    assert spool.depth == 10
    assert await drain_all(spool) == payloads
    assert spool.depth == 0


async def test_a_group_is_written_with_one_fsync(tmp_path: Path) -> None:
    """Appends waiting together share one fsync of the segment."""
    calls: list[int] = []
    spool = Spool(tmp_path, fsync=calls.append)
    await spool.open()
    await spool_all(spool, [b"a", b"b", b"c"])
    await spool.close()
    assert len(calls) == 2  # the new segment's directory entry, then the group


async def test_undrained_records_survive_a_restart_without_the_drained_ones(
    tmp_path: Path,
) -> None:
    """After a restart only what was not marked drained is read again, in order."""
    first = Spool(tmp_path)
    await first.open()
    await spool_all(first, [b"a", b"b", b"c"])
    await first.mark_drained(await first.read(1))
    await first.close()
    second = Spool(tmp_path)
    await second.open()
    assert second.depth == 2
    await spool_all(second, [b"d"])
    assert await drain_all(second) == [b"b", b"c", b"d"]
    await second.close()


async def test_a_torn_last_record_is_ignored_on_recovery(tmp_path: Path) -> None:
    """A half-written frame at the end of a segment (kill -9 mid-write) is not read."""
    first = Spool(tmp_path)
    await first.open()
    await spool_all(first, [b"kept"])
    await first.close()
    [number] = segments.list_segments(tmp_path)
    with segments.segment_path(tmp_path, number).open("ab") as file:
        file.write(frames.encode(7, b"torn-record")[:-3])
    second = Spool(tmp_path)
    await second.open()
    assert second.depth == 1
    assert await drain_all(second) == [b"kept"]
    await second.close()


async def test_drained_segments_are_deleted(tmp_path: Path) -> None:
    """Once a rolled segment is drained it is removed from the directory."""
    spool = Spool(tmp_path, segment_bytes=32)
    await spool.open()
    for index in range(5):
        await spool_all(spool, [bytes(40) + bytes([index])])
    assert len(segments.list_segments(tmp_path)) == 5
    assert len(await drain_all(spool)) == 5
    assert len(segments.list_segments(tmp_path)) == 1
    await spool.close()


async def test_a_failed_fsync_fails_the_group_and_the_next_write_rolls(tmp_path: Path) -> None:
    """A disk-full fsync fails its appends with SpoolUnavailableError; the spool recovers."""
    failing = [True]

    def fsync(_: int) -> None:
        if failing[0]:
            raise OSError(errno.ENOSPC, "No space left on device")

    spool = Spool(tmp_path, fsync=fsync)
    await spool.open()
    with pytest.raises(SpoolUnavailableError, match="No space left"):
        await spool_all(spool, [b"lost"])
    assert (spool.depth, spool.writable) == (0, False)
    failing[0] = False
    await spool_all(spool, [b"kept"])
    assert spool.writable
    assert await drain_all(spool) == [b"kept"]
    await spool.close()


async def test_a_second_process_cannot_take_the_same_directory(spool: Spool) -> None:
    """Two ingresses sharing a spool would drain each other's records: refuse at start."""
    other = Spool(spool.directory)
    with pytest.raises(ConfigurationError, match="in use"):
        await other.open()


@given(seq=st.integers(0, 2**64 - 1), payload=st.binary(max_size=200), cut=st.integers(1, 50))
def test_property_frames_round_trip_and_any_truncation_is_torn(
    seq: int, payload: bytes, cut: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A frame reads back as written; any truncation of it reads as nothing."""
    path = tmp_path_factory.mktemp("frames") / "f"
    data = frames.encode(seq, payload)
    path.write_bytes(data + data[: max(0, len(data) - cut)])
    with path.open("rb") as file:
        found = list(frames.iter_frames(file, 0, 1 << 40))
    assert [(f.seq, f.payload) for f in found] == [(seq, payload)]


async def test_a_cancelled_waiter_does_not_stop_its_group_from_settling(spool: Spool) -> None:
    """A request cancelled while waiting for the fsync leaves the rest of its group settled."""
    _, cancelled = spool.append(b"gone")
    _, kept = spool.append(b"kept")
    assert isinstance(cancelled, asyncio.Future)
    cancelled.cancel()
    await asyncio.wait_for(kept, timeout=5)
    assert await drain_all(spool) == [b"gone", b"kept"]
