"""The consumed record as plain data, independent of faust."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    """One consumed Kafka record: position, key, raw value and headers."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None

    def header(self, name: str) -> bytes | None:
        """Return the last value of the named header, or None."""
        found = [value for key, value in self.headers if key == name]
        return found[-1] if found else None

    @classmethod
    def from_message(cls, message: Any) -> Source:
        """Build from a faust Message (`event.message`)."""
        raw_headers = message.headers or []
        items = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
        timestamp = message.timestamp
        return cls(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value,
            headers=tuple((str(k), bytes(v or b"")) for k, v in items),
            timestamp_ms=int(timestamp * 1000) if timestamp else None,
        )
