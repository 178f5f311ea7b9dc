"""The intake's pause against the real broker: what aiokafka does with a paused partition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.types import TP

from intercom_stream.settings import Settings
from stream_app.faust.intake import HOLD_RECORDS, Intake, IntakeConsumer, unlimited
from tests.support.waiting import until

pytestmark = pytest.mark.integration

RECORDS = 300


async def fill(settings: Settings, count: int) -> TopicPartition:
    """Write `count` records to partition 0 of the test's notifications topic; return it."""
    tp = TopicPartition(settings.topic_notifications, 0)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(tp.topic, f"v-{n}".encode(), partition=0) for n in range(count)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return tp


async def assigned(settings: Settings, tp: TopicPartition) -> AIOKafkaConsumer:
    """Return a started consumer of the one partition, from its beginning, in no group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    consumer.assign([tp])
    return consumer


async def fetch_some(consumer: AIOKafkaConsumer, tp: TopicPartition, most: int) -> list[Any]:
    """Return the first records a fetch brings, at most `most` (bounded wait)."""
    async with asyncio.timeout(30):  # a TimeoutError here means the records never came
        while True:
            batch = await consumer.getmany(tp, timeout_ms=300, max_records=most)
            if batch.get(tp):
                return batch[tp]


async def test_a_paused_partition_s_buffered_records_come_again_once_after_resume(
    kafka_settings: Settings,
) -> None:
    """The assumption the intake's pause relies on: pausing loses and repeats nothing.

    aiokafka holds the rest of a fetch for the partition; while it is paused getmany returns
    none of them, and after resume() every record from where consumption stopped comes
    exactly once, in order.
    """
    tp = await fill(kafka_settings, RECORDS)
    consumer = await assigned(kafka_settings, tp)
    try:
        first = await fetch_some(consumer, tp, 10)
        assert [r.offset for r in first] == list(range(10))
        # The fetch brought more than was handed out: aiokafka buffers the rest (private).
        assert tp in consumer._fetcher._records
        consumer.pause(tp)
        assert await consumer.getmany(timeout_ms=500) == {}
        assert await consumer.position(tp) == 10
        consumer.resume(tp)
        rest: list[Any] = []
        async with asyncio.timeout(30):  # a TimeoutError here means records were lost
            while len(rest) < RECORDS - 10:
                batch = await consumer.getmany(timeout_ms=300)
                rest.extend(batch.get(tp, []))
        assert await consumer.getmany(timeout_ms=300) == {}  # and nothing after them
        assert [r.offset for r in first + rest] == list(range(RECORDS))
        assert [r.value for r in rest] == [f"v-{n}".encode() for n in range(10, RECORDS)]
    finally:
        await consumer.stop()


class KafkaThread:
    """faust's consumer thread as the intake uses it, over a real aiokafka consumer."""

    def __init__(self, kafka: AIOKafkaConsumer) -> None:
        """Run everything on the test's loop (the consumer's own)."""
        self.kafka = kafka

    def _ensure_consumer(self) -> AIOKafkaConsumer:
        """Return aiokafka's consumer."""
        return self.kafka

    async def call_thread(self, fun: Callable[[], Any]) -> Any:
        """Run the coroutine function (here there is one loop)."""
        return await fun()


class KafkaBase:
    """faust's consumer as the intake extends it: fetch and seek as faust's thread does."""

    _thread: KafkaThread

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        """Fetch the active partitions' records, waiting at most `timeout` seconds."""
        kafka = self._thread.kafka
        tps = [TopicPartition(*tp) for tp in active_partitions or ()]
        return await kafka.getmany(*tps, timeout_ms=int(timeout * 1000))

    async def _seek(self, partition: TP, offset: int) -> None:
        """Seek as faust's thread does: aiokafka's seek()."""
        self._thread.kafka.seek(TopicPartition(*partition), offset)


class KafkaIntakeConsumer(IntakeConsumer, KafkaBase):
    """The intake over the real aiokafka consumer."""


async def test_a_partition_the_intake_paused_is_read_again_after_a_seek(
    kafka_settings: Settings,
) -> None:
    """Held records pause the partition; a seek drops them; reading resumes from the seek."""
    count = 2 * HOLD_RECORDS
    tp = await fill(kafka_settings, count)
    kafka = await assigned(kafka_settings, tp)
    consumer = KafkaIntakeConsumer()
    consumer._thread = KafkaThread(kafka)
    consumer.app = type("App", (), {"consumer_generation_id": 1})()
    consumer.intake = Intake([tp.topic], lambda in_flight: 0)
    active = {TP(tp.topic, tp.partition)}
    try:

        async def paused() -> bool:
            await consumer._getmany(active, 0.3)  # the lane allows nothing: all are held
            return bool(consumer.intake.paused)

        await until(paused, "the intake to pause the partition")
        assert kafka.paused() == {tp}
        await consumer._seek(TP(tp.topic, tp.partition), 0)
        assert consumer.intake.paused == set()
        consumer.intake.allowance = unlimited
        read: list[int] = []

        async def read_all() -> bool:
            batch = await consumer._getmany(active, 0.3)
            read.extend(r.offset for r in batch.get(tp, []))
            return len(read) >= count

        await until(read_all, "the records after the seek", 5.0, lambda: kafka.paused())
        assert read == list(range(count))
    finally:
        await kafka.stop()
