"""The local spool: fsync'd, ordered storage for notifications Kafka did not acknowledge in time.

Appends are group-committed: every append waiting while a write runs goes into the next write,
with one fsync for the group. A single drainer reads committed frames in order and marks them
drained; fully drained segments are deleted.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import structlog

from ingress.errors import SpoolUnavailableError
from ingress.spool import frames, segments
from ingress.spool.segments import Fsync, Position, SegmentFile

log = structlog.get_logger("ingress.spool")
SEGMENT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SpoolEntry:
    """One committed spool record, with the position just after it."""

    seq: int
    payload: bytes
    next: Position


class Spool:
    """Durable FIFO of payloads in a directory; one writer (group commit), one drainer."""

    def __init__(
        self, directory: Path, fsync: Fsync = os.fsync, segment_bytes: int = SEGMENT_BYTES
    ) -> None:
        """Remember where to spool; nothing is read until open()."""
        self.directory = directory
        self.writable = True
        self._fsync = fsync
        self._segment_bytes = segment_bytes
        self._ends: dict[int, int] = {}
        self._drained = Position(0, 0)
        self._depth = 0
        self._next_seq = 0
        self._highest = -1
        self._queue: list[tuple[int, bytes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writer: SegmentFile | None = None
        self._readable = asyncio.Event()
        self._lock: int | None = None

    @property
    def depth(self) -> int:
        """Return how many records are spooled (or being spooled) and not yet drained."""
        return self._depth

    async def open(self) -> None:
        """Recover the state left on disk by the previous run, torn last record included."""
        self._lock = segments.lock(self.directory)
        found = await asyncio.to_thread(segments.recover, self.directory)
        self._ends, self._drained = found.ends, found.drained
        self._depth, self._next_seq, self._highest = found.depth, found.next_seq, found.highest
        if self._depth:
            self._readable.set()
            log.warning("spool.recovered", depth=self._depth, directory=str(self.directory))

    def append(self, payload: bytes) -> tuple[int, Awaitable[None]]:
        """Queue a payload; return its sequence number and an awaitable that ends once durable."""
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((seq, payload, done))
        self._depth += 1
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return seq, done

    async def _flush(self) -> None:
        """Write queued payloads group by group until the queue is empty."""
        try:
            while self._queue:
                group, self._queue = self._queue, []
                await self._write_group(group)
        finally:
            self._flusher = None

    async def _write_group(self, group: list[tuple[int, bytes, asyncio.Future[None]]]) -> None:
        """Write one group with a single fsync and settle its waiters."""
        data = b"".join(frames.encode(seq, payload) for seq, payload, _ in group)
        try:
            segment, end = await asyncio.to_thread(self._write, data, self._must_roll())
        except OSError as exc:
            self.writable, self._depth = False, self._depth - len(group)
            log.exception("spool.write_failed", error=str(exc), records=len(group))
            for *_, done in group:
                if not done.done():  # a cancelled request no longer waits
                    done.set_exception(SpoolUnavailableError(f"spool write failed: {exc}"))
            return
        self.writable, self._ends[segment] = True, end
        self._readable.set()
        for *_, done in group:
            if not done.done():  # a cancelled request no longer waits; its record is written
                done.set_result(None)

    def _must_roll(self) -> bool:
        """Whether the next write starts a new segment: none yet, full, broken, or all drained."""
        writer = self._writer
        if writer is None or writer.broken or writer.size >= self._segment_bytes:
            return True
        segment = int(writer.path.stem)
        return writer.size > 0 and self._drained == Position(segment, self._ends.get(segment, 0))

    def _write(self, data: bytes, roll: bool) -> tuple[int, int]:
        """Append the bytes to the active segment (a new one if rolling); runs in a thread."""
        if roll or self._writer is None:
            self._highest += 1
            old, self._writer = (
                self._writer,
                SegmentFile(segments.segment_path(self.directory, self._highest), self._fsync),
            )
            if old is not None:
                old.close()
        return int(self._writer.path.stem), self._writer.append(data)

    async def read(self, max_records: int) -> list[SpoolEntry]:
        """Wait for committed records and return up to max_records of them, oldest first."""
        while True:
            self._readable.clear()
            batch = await asyncio.to_thread(
                segments.read_batch, self.directory, dict(self._ends), self._drained, max_records
            )
            if batch:
                return [SpoolEntry(frame.seq, frame.payload, after) for frame, after in batch]
            await self._readable.wait()

    async def mark_drained(self, entries: list[SpoolEntry]) -> None:
        """Record that these entries (the oldest undrained ones) are on Kafka."""
        if not entries:
            return
        position = entries[-1].next
        await asyncio.to_thread(segments.write_marker, self.directory, position, self._fsync)
        self._drained, self._depth = position, self._depth - len(entries)
        stale = [n for n in self._ends if n < position.segment]
        for number in stale:
            del self._ends[number]
        if stale:
            await asyncio.to_thread(segments.delete_before, self.directory, position.segment)

    async def keep_refused(self, entries: list[SpoolEntry]) -> None:
        """Move records Kafka refuses for good to the refused file, so none is lost silently."""
        for entry in entries:
            log.error("spool.record_refused", seq=entry.seq, file=segments.REFUSED)
        if entries:
            data = b"".join(frames.encode(entry.seq, entry.payload) for entry in entries)
            await asyncio.to_thread(segments.append_refused, self.directory, data, self._fsync)

    async def close(self) -> None:
        """Finish queued writes and close the active segment."""
        while self._flusher is not None:
            await self._flusher
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
