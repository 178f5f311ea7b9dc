"""Spool files on disk: append-only segments, the drained-position marker, and recovery.

Everything here is blocking file I/O; the async spool runs it in a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingress.spool import frames
from intercom_stream.errors import ConfigurationError

SUFFIX = ".seg"
MARKER = "drained.json"
REFUSED = "refused.frames"
LOCK = ".lock"
Fsync = Callable[[int], None]


@dataclass(frozen=True, order=True)
class Position:
    """A place in the spool: a segment number and a byte offset in it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class Recovered:
    """What a scan of the spool directory found: committed ends, depth and the next sequence."""

    ends: dict[int, int]
    drained: Position
    depth: int
    next_seq: int
    highest: int


def segment_path(directory: Path, segment: int) -> Path:
    """Return the file of one segment."""
    return directory / f"{segment:020d}{SUFFIX}"


def list_segments(directory: Path) -> list[int]:
    """Return the segment numbers present, oldest first."""
    return sorted(int(path.stem) for path in directory.glob(f"*{SUFFIX}") if path.stem.isdigit())


def lock(directory: Path) -> int:
    """Take the spool directory for this process; raises ConfigurationError if another has it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigurationError(
            f"spool directory {directory} is in use by another ingress"
        ) from None
    return fd


def fsync_dir(directory: Path, fsync: Fsync = os.fsync) -> None:
    """Make file creations, renames and deletions in the directory durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fsync(fd)
    finally:
        os.close(fd)


def read_marker(directory: Path) -> Position | None:
    """Return the drained position, or None when nothing was ever drained."""
    try:
        raw = json.loads((directory / MARKER).read_bytes())
    except FileNotFoundError:
        return None
    return Position(int(raw["segment"]), int(raw["offset"]))


def write_marker(directory: Path, position: Position, fsync: Fsync = os.fsync) -> None:
    """Replace the drained marker atomically and durably."""
    temporary = directory / (MARKER + ".tmp")
    with temporary.open("wb") as file:
        file.write(json.dumps({"segment": position.segment, "offset": position.offset}).encode())
        file.flush()
        fsync(file.fileno())
    temporary.replace(directory / MARKER)
    fsync_dir(directory, fsync)


def delete_before(directory: Path, segment: int, fsync: Fsync = os.fsync) -> None:
    """Delete every segment older than the given one."""
    doomed = [number for number in list_segments(directory) if number < segment]
    for number in doomed:
        segment_path(directory, number).unlink(missing_ok=True)
    if doomed:
        fsync_dir(directory, fsync)


def append_refused(directory: Path, data: bytes, fsync: Fsync = os.fsync) -> None:
    """Append frames Kafka refused for good to the refused file, durably, for an operator."""
    with (directory / REFUSED).open("ab") as file:
        file.write(data)
        file.flush()
        fsync(file.fileno())


def recover(directory: Path) -> Recovered:
    """Scan the undrained segments; a torn last frame is ignored (it was never acknowledged)."""
    segments = list_segments(directory)
    drained = read_marker(directory) or Position(segments[0] if segments else 0, 0)
    delete_before(directory, drained.segment)
    ends: dict[int, int] = {}
    depth, next_seq = 0, 0
    for number in (n for n in segments if n >= drained.segment):
        start = drained.offset if number == drained.segment else 0
        ends[number] = start
        with segment_path(directory, number).open("rb") as file:
            for frame in frames.iter_frames(file, start, 1 << 62):
                ends[number], depth, next_seq = frame.end, depth + 1, max(next_seq, frame.seq + 1)
    return Recovered(ends, drained, depth, next_seq, max(segments, default=-1))


def read_batch(
    directory: Path, ends: dict[int, int], start: Position, max_records: int
) -> list[tuple[frames.Frame, Position]]:
    """Return up to max_records committed frames from start, each with the position after it."""
    batch: list[tuple[frames.Frame, Position]] = []
    position = start
    while len(batch) < max_records:
        later = [number for number in ends if number > position.segment]
        if position.offset >= ends.get(position.segment, 0):
            if not later:
                return batch
            position = Position(min(later), 0)
            continue
        with segment_path(directory, position.segment).open("rb") as file:
            for frame in frames.iter_frames(file, position.offset, ends[position.segment]):
                position = Position(position.segment, frame.end)
                batch.append((frame, position))
                if len(batch) == max_records:
                    return batch
        position = Position(position.segment, ends[position.segment])
    return batch


class SegmentFile:
    """One append-only segment: each append is written and fsync'd before it returns."""

    def __init__(self, path: Path, fsync: Fsync) -> None:
        """Create the segment file (it must not exist yet) and make its name durable."""
        self.path = path
        self.size = 0
        self.broken = False
        self._fsync = fsync
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fsync_dir(path.parent, fsync)

    def append(self, data: bytes) -> int:
        """Write and fsync the bytes, returning the new size; on failure cut them off and raise."""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._fsync(self._fd)
        except OSError:
            self.broken = True  # after a failed fsync the page cache cannot be trusted: roll
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)
            raise
        self.size += len(data)
        return self.size

    def close(self) -> None:
        """Close the file descriptor."""
        os.close(self._fd)
