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
