"""How far the worker is through the replay topic: its end offsets minus the group's commits."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient

from intercom_stream.ops import kafka_io
from intercom_stream.settings import Settings


async def committed(settings: Settings, topic: str) -> dict[int, int]:
    """Return the worker group's committed offset of each partition of the topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.worker_app_id)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def remaining(settings: Settings, topic: str) -> int:
    """Return how many records of the topic the worker group has not committed yet."""
    done = await committed(settings, topic)
    async with kafka_io.reader(settings.bootstrap_servers()) as consumer:
        ranges = await kafka_io.whole_topic(consumer, topic, settings.bootstrap_servers())
    return sum(
        max(0, end - max(done.get(tp.partition, start), start))
        for tp, (start, end) in ranges.items()
    )
