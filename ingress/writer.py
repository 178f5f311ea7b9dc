"""Writes notification records to Kafka and returns only once the broker acknowledged them."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer


@dataclass(frozen=True)
class Record:
    """One Kafka record: key, raw value and headers."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def durable_producer(bootstrap_servers: list[str], client_id: str) -> AIOKafkaProducer:
    """Return an idempotent producer that waits for every in-sync replica (acks=all)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        request_timeout_ms=10_000,
    )


class KafkaWriter:
    """Sends records to one topic through a started producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        """Keep the producer and the target topic."""
        self._producer = producer
        self._topic = topic

    async def write(self, record: Record) -> None:
        """Send the record and wait for the acknowledgement."""
        await self._producer.send_and_wait(
            self._topic, value=record.value, key=record.key, headers=list(record.headers)
        )
