"""Length-prefixed, CRC-checked frames: the on-disk unit of the spool.

A frame is `length:u32 crc32:u32 seq:u64 payload`, big-endian; the CRC covers seq and payload.
A reader stops at the first frame that is short or fails its CRC: that is a torn tail.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

HEADER = struct.Struct(">IIQ")
_SEQ = struct.Struct(">Q")
MAX_PAYLOAD = 256 * 1024 * 1024


@dataclass(frozen=True)
class Frame:
    """One spooled record: its sequence number, payload and where the next frame starts."""

    seq: int
    payload: bytes
    end: int


def encode(seq: int, payload: bytes) -> bytes:
    """Return the frame bytes for one payload."""
    crc = zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq)))
    return HEADER.pack(len(payload), crc, seq) + payload


def read_frame(file: BinaryIO, offset: int, limit: int) -> Frame | None:
    """Return the frame at offset (the file positioned there), or None if torn or past limit."""
    header = file.read(HEADER.size)
    if len(header) < HEADER.size or offset + HEADER.size > limit:
        return None
    length, crc, seq = HEADER.unpack(header)
    end = offset + HEADER.size + length
    if length > MAX_PAYLOAD or end > limit:
        return None
    payload = file.read(length)
    if len(payload) < length or zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))) != crc:
        return None
    return Frame(seq, payload, end)


def iter_frames(file: BinaryIO, offset: int, limit: int) -> Iterator[Frame]:
    """Yield the valid frames from offset up to limit, stopping at a torn or corrupt one."""
    file.seek(offset)
    while (frame := read_frame(file, offset, limit)) is not None:
        yield frame
        offset = frame.end
