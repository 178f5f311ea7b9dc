"""The consumed record as plain data, independent of faust."""

from __future__ import annotations

from collections.abc import Iterable
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
        for key, value in reversed(self.headers):
            if key == name:
                return value
        return None

    @classmethod
    def from_message(cls, message: Any) -> Source:
        """Build from a faust Message (`event.message`; timestamp in seconds)."""
        raw_headers = message.headers or []
        items = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
        timestamp = message.timestamp
        return cls._of(message, items, int(timestamp * 1000) if timestamp else None)

    @classmethod
    def from_record(cls, record: Any) -> Source:
        """Build from an aiokafka ConsumerRecord (timestamp in milliseconds)."""
        return cls._of(record, record.headers or (), record.timestamp)

    @classmethod
    def _of(cls, record: Any, headers: Iterable[Any], timestamp_ms: int | None) -> Source:
        """Build from anything with topic, partition, offset, key and value."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=tuple((str(k), bytes(v or b"")) for k, v in headers),
            timestamp_ms=timestamp_ms,
        )
