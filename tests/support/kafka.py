"""Bounded helpers for reading and writing the real broker in tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def from_beginning(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """Return a started consumer that reads the topic from its first record, committing nothing."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    return consumer


async def consume(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Any]:
    """Read the first `count` records of a topic from the beginning, failing clearly on timeout."""
    return await collect_until(
        bootstrap, topic, lambda records: len(records) >= count, timeout, f"{count} records"
    )


async def consume_all(bootstrap: str, topic: str, idle: float = 2.0) -> list[Any]:
    """Read a topic from the beginning up to its current end offsets."""
    consumer = await from_beginning(bootstrap, topic)
    try:
        partitions = consumer.assignment()
        while not partitions:
            await consumer.getmany(timeout_ms=100)
            partitions = consumer.assignment()
        ends = await consumer.end_offsets(list(partitions))
        records: list[Any] = []
        async with asyncio.timeout(30):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batch = await consumer.getmany(timeout_ms=int(idle * 1000))
                records.extend(r for partition in batch.values() for r in partition)
        return records
    finally:
        await consumer.stop()


async def produce(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
) -> None:
    """Write (key, value, headers) records and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def collect_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Any]], bool],
    timeout: float = 60.0,
    what: str = "records",
) -> list[Any]:
    """Read a topic from the beginning until `done(records)` holds, failing clearly on timeout."""
    consumer = await from_beginning(bootstrap, topic)
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while not done(records):
                batch = await consumer.getmany(timeout_ms=300)
                records.extend(r for partition in batch.values() for r in partition)
    except TimeoutError:
        raise AssertionError(
            f"waited {timeout}s for {what} on {topic}; have {len(records)} records"
        ) from None
    finally:
        await consumer.stop()
    return records
