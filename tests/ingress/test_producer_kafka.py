"""The librdkafka producer against the real broker: partitions, refusals, an absent broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka.partitioner import DefaultPartitioner

from dev.support.processes import free_port
from ingress.errors import (
    DeliveryError,
    DeliveryTimeoutError,
    KafkaUnavailableError,
    RecordRefusedError,
)
from ingress.producer import RdKafkaProducer, producer_config
from ingress.records import Record
from intercom_stream.settings import Settings
from tests.support.kafka import consume

pytestmark = pytest.mark.integration
MAX_BYTES = 64 * 1024


@pytest.fixture
async def producer(kafka_settings: Settings) -> AsyncIterator[RdKafkaProducer]:
    """A started producer on the test broker."""
    config = producer_config(kafka_settings.bootstrap_servers(), "producer-test", MAX_BYTES)
    started = RdKafkaProducer(config)
    await started.start()
    yield started
    assert await started.flush(5.0)
    await started.stop()


async def test_keys_land_on_the_partitions_the_java_client_would_choose(
    producer: RdKafkaProducer, kafka_settings: Settings
) -> None:
    """Every key lands where murmur2 puts it, as for faust, aiokafka and the Java client."""
    topic, keys = kafka_settings.topic_notifications, [f"conv-{i}".encode() for i in range(64)]
    futures = [producer.send(Record(topic, key, b"v", (("h", b"1"),))) for key in keys]
    await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
    landed = await consume(kafka_settings.kafka_bootstrap_servers, topic, len(keys))
    partitions = list(range(kafka_settings.topic_partitions))
    expected = {key: DefaultPartitioner()(key, partitions, partitions) for key in keys}
    assert {record.key: record.partition for record in landed} == expected
    assert len(set(expected.values())) == len(partitions)


async def test_a_record_over_the_size_limit_is_refused_for_good(
    producer: RdKafkaProducer, kafka_settings: Settings
) -> None:
    """A record larger than the producer's limit fails with RecordRefusedError, not a retry."""
    too_big = Record(kafka_settings.topic_notifications, b"k", b"x" * (2 * MAX_BYTES), ())
    with pytest.raises(RecordRefusedError, match="MSG_SIZE_TOO_LARGE"):
        await asyncio.wait_for(producer.send(too_big), timeout=10)


async def test_start_fails_clearly_when_no_broker_answers() -> None:
    """Pointed at a port nobody listens on, start() raises KafkaUnavailableError in bounded time."""
    config = producer_config([f"127.0.0.1:{free_port()}"], "absent-broker-test", MAX_BYTES)
    absent = RdKafkaProducer(config, probe_seconds=1.0)
    with pytest.raises(KafkaUnavailableError, match="no broker answered"):
        await asyncio.wait_for(absent.start(), timeout=10)
    await absent.stop()


async def test_stop_fails_what_an_absent_broker_never_acknowledged() -> None:
    """Records queued for a broker that never answers fail with a DeliveryError on stop()."""
    config = producer_config([f"127.0.0.1:{free_port()}"], "stop-test", MAX_BYTES)
    absent = RdKafkaProducer(config, probe_seconds=0.5)
    with pytest.raises(KafkaUnavailableError):
        await absent.start()
    future = absent.send(Record("t", b"k", b"v", ()))
    await absent.stop()
    with pytest.raises(Exception, match="PURGE") as caught:
        await asyncio.wait_for(future, timeout=5)
    assert type(caught.value).__name__ == "DeliveryError"


async def test_a_stopped_producer_fails_sends_through_the_future() -> None:
    """send() after stop() never raises: its future fails, so the drainer keeps running."""
    config = producer_config([f"127.0.0.1:{free_port()}"], "stopped-test", MAX_BYTES)
    stopped = RdKafkaProducer(config)
    await stopped.stop()
    with pytest.raises(DeliveryError, match="not running"):
        await asyncio.wait_for(stopped.send(Record("t", b"k", b"v", ())), timeout=5)


async def test_a_detached_send_still_lands_and_reports_to_its_late_future(
    producer: RdKafkaProducer, kafka_settings: Settings
) -> None:
    """Detaching a pending send fails its future with the timeout; the ack reaches `late`."""
    topic = kafka_settings.topic_notifications
    future = producer.send(Record(topic, b"late-key", b"late-value", ()))
    late = producer.detach(future)  # before the loop can settle the acknowledgement
    with pytest.raises(DeliveryTimeoutError) as caught:
        await future
    assert caught.value.late is late
    await asyncio.wait_for(late, timeout=30)
    assert late.exception() is None
    [landed] = await consume(kafka_settings.kafka_bootstrap_servers, topic, 1)
    assert (landed.key, landed.value) == (b"late-key", b"late-value")


async def test_a_detached_send_that_never_lands_fails_its_late_future() -> None:
    """A detached send purged by stop() fails its late future with a DeliveryError."""
    config = producer_config([f"127.0.0.1:{free_port()}"], "detach-stop-test", MAX_BYTES)
    absent = RdKafkaProducer(config, probe_seconds=0.5)
    with pytest.raises(KafkaUnavailableError):
        await absent.start()
    late = absent.detach(absent.send(Record("t", b"k", b"v", ())))
    await absent.stop()
    with pytest.raises(DeliveryError, match="PURGE"):
        await asyncio.wait_for(late, timeout=5)


async def test_reachable_says_whether_a_broker_answers(producer: RdKafkaProducer) -> None:
    """The stall backstop's probe: True against the test broker, False with none listening."""
    config = producer_config([f"127.0.0.1:{free_port()}"], "reachable-test", MAX_BYTES)
    absent = RdKafkaProducer(config, probe_seconds=0.5)
    with pytest.raises(KafkaUnavailableError):
        await absent.start()
    assert (await producer.reachable(), await absent.reachable()) == (True, False)
    await absent.stop()
    assert not await absent.reachable()
