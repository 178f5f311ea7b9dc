"""A record on the dead-letter topic: why a message failed, and the message, byte for byte."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["ingress", "verify", "parse", "handler", "validate", "writer"]


class RecordHeader(BaseModel):
    """One Kafka record header; the value is kept as bytes (base64 in JSON)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    key: str
    value: bytes


class DeadLetter(BaseModel):
    """A failed message with everything needed to inspect and requeue it."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    stage: Stage
    reason: str
    error_type: str
    error_message: str
    traceback: str | None = None
    attempts: int = Field(default=1, ge=0)
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    source_key: bytes | None = None
    headers: tuple[RecordHeader, ...] = ()
    payload: bytes
    received_at_ms: int | None = None
    failed_at_ms: int


# Header names on every dead-letter record: Spring Kafka's (`DeadLetterPublishingRecoverer`),
# which standard tools filter on, then this project's own.
ORIGINAL_TOPIC = "kafka_dlt-original-topic"
ORIGINAL_PARTITION = "kafka_dlt-original-partition"
ORIGINAL_OFFSET = "kafka_dlt-original-offset"
ORIGINAL_TIMESTAMP = "kafka_dlt-original-timestamp"
EXCEPTION_FQCN = "kafka_dlt-exception-fqcn"
EXCEPTION_MESSAGE = "kafka_dlt-exception-message"
STAGE = "x-stage"
ATTEMPTS = "x-attempts"
INTERCOM_STATUS = "x-intercom-status"
INTERCOM_REQUEST_ID = "x-intercom-request-id"
MAX_MESSAGE_BYTES = 1024


def kafka_headers(
    letter: DeadLetter,
    fqcn: str | None = None,
    status: int | None = None,
    request_id: str | None = None,
) -> list[tuple[str, bytes]]:
    """Return the dead-letter record's headers; unknown values are left out, not sent empty."""
    values: list[tuple[str, object]] = [
        (ORIGINAL_TOPIC, letter.source_topic),
        (ORIGINAL_PARTITION, letter.source_partition),
        (ORIGINAL_OFFSET, letter.source_offset),
        (ORIGINAL_TIMESTAMP, letter.received_at_ms),
        (EXCEPTION_FQCN, fqcn or letter.error_type),
        (EXCEPTION_MESSAGE, letter.error_message[:MAX_MESSAGE_BYTES]),
        (STAGE, letter.stage),
        (ATTEMPTS, letter.attempts),
        (INTERCOM_STATUS, status),
        (INTERCOM_REQUEST_ID, request_id),
    ]
    return [(name, str(value).encode()) for name, value in values if value is not None]
