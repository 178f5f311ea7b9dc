"""Turns a verified webhook body into its Kafka record, or a dead letter if it is no envelope."""

from __future__ import annotations

import traceback

from pydantic import ValidationError

from ingress.writer import Record
from schemas import DeadLetter, Notification, RecordHeader, headers


def notification_record(
    body: bytes, signature: str, received_at_ms: int, instance_id: str
) -> Record:
    """Return the record keyed by the resource id; raises ValidationError if not an envelope."""
    notification = Notification.model_validate_json(body)
    return Record(
        key=notification.partition_key().encode(),
        value=body,
        headers=(
            (headers.INTERCOM_TOPIC, notification.topic.encode()),
            (headers.NOTIFICATION_ID, (notification.id or "").encode()),
            (headers.RECEIVED_AT_MS, str(received_at_ms).encode()),
            (headers.SIGNATURE, signature.encode()),
            (headers.INGRESS_INSTANCE, instance_id.encode()),
        ),
    )


def ingress_dead_letter(
    body: bytes, error: ValidationError, signature: str, received_at_ms: int, now_ms: int
) -> Record:
    """Return the dead-letter record for a signed body that is not an Intercom envelope."""
    letter = DeadLetter(
        stage="ingress",
        reason="signed body is not an Intercom notification envelope",
        error_type=type(error).__name__,
        error_message=str(error),
        traceback="".join(traceback.format_exception_only(error)),
        payload=body,
        headers=(RecordHeader(key=headers.SIGNATURE, value=signature.encode()),),
        received_at_ms=received_at_ms,
        failed_at_ms=now_ms,
    )
    return Record(key=b"ingress", value=letter.model_dump_json().encode(), headers=())
