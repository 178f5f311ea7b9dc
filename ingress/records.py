"""Kafka records of the ingress: notification and dead-letter records, and their spool encoding."""

from __future__ import annotations

import struct
import traceback
from typing import NamedTuple

from ingress.envelope import Envelope
from schemas import DeadLetter, RecordHeader, headers
from schemas.dead_letter import kafka_headers

_SIZE = struct.Struct(">I")


class Record(NamedTuple):
    """One Kafka record bound for a topic: key, raw value and headers.

    A NamedTuple, not a frozen dataclass: one is built per webhook, and a frozen dataclass
    costs about 2 µs to build against 0.7 µs.
    """

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def notification_record(
    topic: str, envelope: Envelope, body: bytes, signature: str, received_at_ms: int, instance: str
) -> Record:
    """Return the record of a notification: the raw body keyed by the resource id."""
    return Record(
        topic=topic,
        key=envelope.key.encode(),
        value=body,
        headers=(
            (headers.INTERCOM_TOPIC, envelope.topic.encode()),
            (headers.NOTIFICATION_ID, (envelope.notification_id or "").encode()),
            (headers.RECEIVED_AT_MS, str(received_at_ms).encode()),
            (headers.SIGNATURE, signature.encode()),
            (headers.INGRESS_INSTANCE, instance.encode()),
        ),
    )


def dead_letter_record(
    topic: str, body: bytes, error: Exception, signature: str, received_at_ms: int, instance: str
) -> Record:
    """Return the dead-letter record of a signed body that is not an Intercom envelope."""
    letter = DeadLetter(
        stage="ingress",
        reason="signed body is not an Intercom notification envelope",
        error_type=type(error).__name__,
        error_message=str(error),
        traceback="".join(traceback.format_exception_only(error)),
        payload=body,
        headers=(
            RecordHeader(key=headers.SIGNATURE, value=signature.encode()),
            RecordHeader(key=headers.INGRESS_INSTANCE, value=instance.encode()),
        ),
        received_at_ms=received_at_ms,
        failed_at_ms=received_at_ms,
    )
    fqcn = f"{type(error).__module__}.{type(error).__qualname__}"
    value = letter.model_dump_json().encode()
    return Record(topic, b"ingress", value, tuple(kafka_headers(letter, fqcn=fqcn)))


def _fields(record: Record) -> list[bytes]:
    """Return the record flattened to byte strings: topic, key, value, then header pairs."""
    pairs = [part for name, value in record.headers for part in (name.encode(), value)]
    return [record.topic.encode(), record.key, record.value, *pairs]


def encode(record: Record) -> bytes:
    """Serialise a record for the spool as length-prefixed byte strings."""
    return b"".join(_SIZE.pack(len(part)) + part for part in _fields(record))


def decode(payload: bytes) -> Record:
    """Rebuild a record from its spool encoding."""
    parts, offset = [], 0
    while offset < len(payload):
        (size,) = _SIZE.unpack_from(payload, offset)
        parts.append(payload[offset + 4 : offset + 4 + size])
        offset += 4 + size
    topic, key, value, *rest = parts
    pairs = tuple((rest[i].decode(), rest[i + 1]) for i in range(0, len(rest), 2))
    return Record(topic.decode(), key, value, pairs)
