"""Signed notification records on the notifications topic, with chosen Kafka timestamps."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from schemas import headers
from tests.conftest import TEST_SECRET


@dataclass(frozen=True)
class Sent:
    """One notification written: its id, Intercom topic, Kafka timestamp and position."""

    notification_id: str
    topic: str
    timestamp_ms: int
    partition: int
    offset: int


async def write_notifications(
    settings: Settings, specs: list[tuple[str, str, int]], key: bytes | None = None
) -> list[Sent]:
    """Write (notification id, Intercom topic, timestamp ms) as the ingress would, signed.

    Each record is keyed by its notification id unless one key is given for all.
    """
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), acks="all")
    await producer.start()
    sent = []
    try:
        for notification_id, topic, timestamp_ms in specs:
            body = samples.notification_bytes(topic=topic, notification_id=notification_id)
            record = [
                (headers.INTERCOM_TOPIC, topic.encode()),
                (headers.NOTIFICATION_ID, notification_id.encode()),
                (headers.SIGNATURE, sign(body, TEST_SECRET.encode()).encode()),
            ]
            meta = await producer.send_and_wait(
                settings.topic_notifications, body, key=key or notification_id.encode(),
                headers=record, timestamp_ms=timestamp_ms,
            )  # fmt: skip
            sent.append(Sent(notification_id, topic, timestamp_ms, meta.partition, meta.offset))
    finally:
        await producer.stop()
    return sent
