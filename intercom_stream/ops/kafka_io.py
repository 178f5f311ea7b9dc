"""Bounded reads of topic ranges and acknowledged writes, for the operations commands.

Every read stops at the end offsets seen when it starts, so a command never waits for records
that are still arriving, and every wait is bounded: a range that stops advancing fails clearly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from intercom_stream.errors import TopicError
from intercom_stream.topics import describe_partitions

Headers = Sequence[tuple[str, bytes]]
Ranges = dict[TopicPartition, tuple[int, int]]
STALL_SECONDS = 30.0


@asynccontextmanager
async def reader(bootstrap: list[str]) -> AsyncIterator[AIOKafkaConsumer]:
    """Yield a started consumer with no group: it commits nothing and joins nobody."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def partitions(bootstrap: list[str], topic: str) -> list[TopicPartition]:
    """Return the topic's partitions, or raise TopicError when it does not exist.

    Asked of the admin client: a consumer's metadata may predate a topic created just now.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        count = (await describe_partitions(admin, [topic])).get(topic, 0)
    finally:
        await admin.close()
    if not count:
        raise TopicError(f"topic {topic!r} does not exist (run `intercom-stream topics create`)")
    return [TopicPartition(topic, p) for p in range(count)]


async def whole_topic(consumer: AIOKafkaConsumer, topic: str, bootstrap: list[str]) -> Ranges:
    """Return each partition's range from its first retained offset to its current end."""
    tps = await partitions(bootstrap, topic)
    starts = await consumer.beginning_offsets(tps)
    ends = await consumer.end_offsets(tps)
    return {tp: (starts[tp], ends[tp]) for tp in tps}


async def read_ranges(consumer: AIOKafkaConsumer, ranges: Ranges) -> AsyncIterator[Any]:
    """Yield the records of each partition's [start, end) range, in offset order per partition."""
    todo = {tp: span for tp, span in ranges.items() if span[0] < span[1]}
    if not todo:
        return
    consumer.assign(list(todo))
    for tp, (start, _) in todo.items():
        consumer.seek(tp, start)
    while todo:
        batch = await fetch(consumer, todo)
        for tp, records in batch.items():
            for record in records:
                if record.offset < todo.get(tp, (0, -1))[1]:
                    yield record
            if await consumer.position(tp) >= todo.get(tp, (0, 0))[1]:
                todo.pop(tp, None)
                consumer.pause(tp)


async def fetch(consumer: AIOKafkaConsumer, todo: Ranges) -> dict[TopicPartition, list[Any]]:
    """Return the next non-empty batch, or raise TopicError if none comes within the bound."""
    try:
        async with asyncio.timeout(STALL_SECONDS):
            while True:
                batch: dict[TopicPartition, list[Any]] = await consumer.getmany(
                    *todo, timeout_ms=500
                )
                if batch or await reached_ends(consumer, todo):
                    return batch
    except TimeoutError:
        raise TopicError(f"reading {sorted(map(str, todo))} stalled for {STALL_SECONDS}s") from None


async def reached_ends(consumer: AIOKafkaConsumer, todo: Ranges) -> bool:
    """Whether every partition's position is at its range end (records may be compacted away)."""
    ended = [tp for tp, (_, end) in todo.items() if await consumer.position(tp) >= end]
    for tp in ended:
        todo.pop(tp)
    return not todo


async def read_topic(bootstrap: list[str], topic: str) -> list[Any]:
    """Return every retained record of the topic up to its current end."""
    async with reader(bootstrap) as consumer:
        ranges = await whole_topic(consumer, topic, bootstrap)
        return [record async for record in read_ranges(consumer, ranges)]


async def read_one(bootstrap: list[str], topic: str, partition: int, offset: int) -> Any | None:
    """Return the record at the position, or None when it is not (or no longer) there."""
    async with reader(bootstrap) as consumer:
        tp = TopicPartition(topic, partition)
        if tp not in await partitions(bootstrap, topic):
            return None
        async for record in read_ranges(consumer, {tp: (offset, offset + 1)}):
            return record
    return None


@asynccontextmanager
async def writer(bootstrap: list[str], linger_ms: int = 0) -> AsyncIterator[AIOKafkaProducer]:
    """Yield a started producer that waits for every in-sync replica."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=linger_ms
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def send(
    producer: AIOKafkaProducer, topic: str, key: bytes | None, value: bytes, headers: Headers
) -> tuple[int, int]:
    """Write one record, wait for its acknowledgement and return its (partition, offset)."""
    metadata = await producer.send_and_wait(topic, value=value, key=key, headers=list(headers))
    return int(metadata.partition), int(metadata.offset)
