"""Records go out with the app's producer; a failed or cancelled send stops the worker."""

from __future__ import annotations

import asyncio
import inspect

import faust
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.producer.message_accumulator import MessageAccumulator, MessageBatch
from faust.app.base import BootStrategy
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import Producer

from stream_app.faust import produce
from tests.fakes.faust import FakeProducer, Stopped, fake_stop

STAGE = [("x-stage", b"handler")]


@pytest.fixture(autouse=True)
def no_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the process exit with an exception for every test here."""
    monkeypatch.setattr(produce, "stop_consuming", fake_stop)


@pytest.fixture
def app() -> faust.App:
    """An app whose producer is a fake."""
    app = faust.App("produce", store="memory://", autodiscover=False)
    app.producer = FakeProducer()  # type: ignore[assignment]
    return app


async def test_an_acknowledged_send_lets_the_worker_go_on() -> None:
    """A send that Kafka acknowledged changes nothing."""
    ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ack.set_result(1)
    produce.stop_if_failed(ack)


async def test_a_failed_send_stops_the_worker() -> None:
    """A send that failed stops consuming, with the error."""
    ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ack.set_exception(ConnectionError("broker gone"))
    with pytest.raises(Stopped, match="broker gone"):
        produce.stop_if_failed(ack)


async def test_a_cancelled_send_stops_the_worker() -> None:
    """A send that was cancelled was not written either."""
    ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ack.cancel()
    with pytest.raises(Stopped, match="cancelled"):
        produce.stop_if_failed(ack)


async def test_a_publisher_hands_bytes_and_headers_to_the_producer(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record goes to the producer as given, partitioned by its key, and the ack is watched."""
    stops: list[BaseException] = []
    monkeypatch.setattr(produce, "stop_consuming", stops.append)
    ack = await produce.publisher(app, "out")(b"k", b"v", [("h", b"1")])
    producer: FakeProducer = app.producer  # type: ignore[assignment]
    assert producer.sent == [("out", b"k", b"v", None, None, [("h", b"1")])]
    ack.set_exception(ConnectionError("not written"))
    await asyncio.sleep(0)  # the done callback runs on the next loop turn
    assert [repr(e) for e in stops] == ["ConnectionError('not written')"]


async def test_a_dead_letter_waits_for_its_acknowledgement(app: faust.App) -> None:
    """The dead-letter sender returns only once the record is acknowledged."""
    producer: FakeProducer = app.producer  # type: ignore[assignment]
    sending = asyncio.ensure_future(produce.dead_letter_sender(app, "dlq")(b"k", b"letter", STAGE))
    await asyncio.sleep(0)
    assert not sending.done()
    producer.ack_all()
    await sending
    assert producer.sent == [("dlq", b"k", b"letter", None, None, STAGE)]


def test_faust_producer_send_takes_the_arguments_in_this_order() -> None:
    """faust's Producer.send(topic, key, value, partition, timestamp, headers) is what we call."""
    names = list(inspect.signature(Producer.send).parameters)[:7]
    assert names == ["self", "topic", "key", "value", "partition", "timestamp", "headers"]


def test_a_worker_starts_the_producer_with_the_app() -> None:
    """The producer is one of the services a worker starts, so `app.producer` is ready."""
    assert "self.kafka_producer()" in inspect.getsource(BootStrategy.server)
    assert "self.app.producer" in inspect.getsource(BootStrategy.kafka_producer)


def test_faust_flushes_the_producer_before_it_commits() -> None:
    """A commit awaits `producer.flush()` first, so nothing enqueued before an ack is lost."""
    source = inspect.getsource(Consumer._commit_offsets)
    assert 0 < source.index("self.app.producer.flush()") < source.index("self._commit(")


async def test_released_batches_are_ready_at_once_and_wake_the_sender() -> None:
    """Every lingering batch becomes ready and aiokafka's sender is woken to drain them."""
    app = faust.App("release", store="memory://", autodiscover=False)
    aiokafka = AIOKafkaProducer(linger_ms=60_000)
    app.producer._producer = aiokafka  # type: ignore[attr-defined]
    accumulator = aiokafka._message_accumulator
    for partition in (0, 1):
        await accumulator.add_message(TopicPartition("t", partition), b"k", b"v", timeout=1)
    batches = [batch for queue in accumulator._batches.values() for batch in queue]
    assert all(batch.remaining_linger() for batch in batches)
    # as the sender leaves it after a drain: a new waiter for data or an ended linger
    waiter = accumulator._waiter_future = asyncio.get_running_loop().create_future()
    assert produce.release_batches(app) == 2
    assert [batch.remaining_linger() for batch in batches] == [None, None]
    assert waiter.done()
    await aiokafka.stop()


def test_nothing_is_released_before_the_producer_started() -> None:
    """Before faust starts its producer there are no batches to release."""
    app = faust.App("release", store="memory://", autodiscover=False)
    assert produce.release_batches(app) == 0


def test_aiokafka_batches_linger_on_the_attributes_release_sets() -> None:
    """A batch is ready when `_linger_time` has passed (what release_batches sets to 0)."""
    source = inspect.getsource(MessageBatch.remaining_linger)
    assert "self._linger_time" in source
    assert "self._waiter_future" in inspect.getsource(MessageAccumulator.drain_by_nodes)
