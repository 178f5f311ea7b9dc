"""The range reader against the real broker: committed offsets, log start, exact ranges."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from intercom_stream.settings import Settings
from stream_app.continuity import RangeReader
from stream_app.errors import RecordsMissingError

pytestmark = pytest.mark.integration


async def fill(settings: Settings, count: int) -> str:
    """Write `count` records with headers to partition 0 of the notifications topic."""
    topic = settings.topic_notifications
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for n in range(count):
            value, headers = f"value-{n}".encode(), [("n", str(n).encode())]
            await producer.send_and_wait(topic, value, partition=0, headers=headers)
    finally:
        await producer.stop()
    return topic


async def commit(settings: Settings, group: str, topic: str, offset: int) -> None:
    """Commit an offset for partition 0 of the topic on behalf of the group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,  # else stopping commits its own position over ours
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()


def reader(settings: Settings, group: str, timeout: float = 30.0) -> RangeReader:
    """Return a range reader for the group on the test broker."""
    return RangeReader(settings.bootstrap_servers(), group, timeout)


async def test_reads_exactly_the_range_with_values_and_headers(kafka_settings: Settings) -> None:
    """Offsets [3, 7) come back in order, byte for byte, with their headers."""
    topic = await fill(kafka_settings, 10)
    records = await reader(kafka_settings, "g").read(topic, 0, 3, 7)
    assert [r.offset for r in records] == [3, 4, 5, 6]
    assert [r.value for r in records] == [f"value-{n}".encode() for n in (3, 4, 5, 6)]
    assert [r.header("n") for r in records] == [b"3", b"4", b"5", b"6"]


async def test_start_offset_is_the_committed_offset(kafka_settings: Settings, unique: str) -> None:
    """Once the group committed, the partition resumes at that offset."""
    topic = await fill(kafka_settings, 5)
    await commit(kafka_settings, f"group-{unique}", topic, 4)
    assert await reader(kafka_settings, f"group-{unique}").start_offset(topic, 0) == 4


async def test_start_offset_without_a_commit_is_the_log_start(
    kafka_settings: Settings, unique: str
) -> None:
    """A group that never committed starts at the beginning of the log (earliest reset)."""
    topic = await fill(kafka_settings, 3)
    assert await reader(kafka_settings, f"fresh-{unique}").start_offset(topic, 0) == 0


async def test_a_range_past_the_end_of_the_log_fails_clearly(kafka_settings: Settings) -> None:
    """Offsets that do not exist are reported missing after the timeout, not awaited forever."""
    topic = await fill(kafka_settings, 2)
    with pytest.raises(RecordsMissingError, match="up to offset 5"):
        await reader(kafka_settings, "g", timeout=2.0).read(topic, 0, 1, 5)
