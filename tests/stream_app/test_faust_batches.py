"""The worker's batches: records share an ack and reach aiokafka in order, before commits too."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.cluster import ClusterMetadata
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.protocol.metadata import MetadataResponse_v0
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.errors import KafkaFailureError
from stream_app.faust import batches as batches_module
from stream_app.faust import produce
from stream_app.faust.batches import BatchWriter, batch_publisher, key_hash
from tests.fakes.faust import fake_stop

PARTITIONS = 8


@pytest.fixture(autouse=True)
def no_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the process exit with an exception for every test here."""
    monkeypatch.setattr(produce, "stop_consuming", fake_stop)


class Submitted:
    """Stands in for aiokafka's `send_batch`: queues the builder in the real accumulator."""

    def __init__(self, producer: AIOKafkaProducer, error: Exception | None = None) -> None:
        """Record submissions to `producer`; raise `error` on each if given."""
        self.producer = producer
        self.error = error
        self.calls: list[tuple[str, int, list[bytes]]] = []

    async def __call__(self, builder: BatchBuilder, topic: str, *, partition: int) -> Any:
        """Queue the batch as send_batch does after its metadata check; return its future."""
        if self.error is not None:
            raise self.error
        self.calls.append((topic, partition, values(builder)))
        accumulator = self.producer._message_accumulator
        return await accumulator.add_batch(builder, TopicPartition(topic, partition), 1)


def values(builder: BatchBuilder) -> list[bytes]:
    """Return the values appended to a builder so far, in order."""
    return list(getattr(builder, "appended", []))


def update(cluster: ClusterMetadata, partitions: dict[str, int]) -> ClusterMetadata:
    """Apply a metadata response listing these topics with these partition counts."""
    topics = [
        (0, topic, [(0, p, 0, [0], [0]) for p in range(n)]) for topic, n in partitions.items()
    ]
    cluster.update_metadata(MetadataResponse_v0([(0, "127.0.0.1", 9092)], topics))
    return cluster


@pytest.fixture
async def writer(monkeypatch: pytest.MonkeyPatch) -> BatchWriter:
    """A BatchWriter over an unstarted aiokafka producer with known metadata (8 partitions)."""
    app = faust.App("batches", store="memory://", autodiscover=False)
    aiokafka = AIOKafkaProducer(linger_ms=60_000)
    aiokafka._metadata = update(ClusterMetadata(), {"commands": PARTITIONS, "out": PARTITIONS})
    app.producer._producer = aiokafka  # type: ignore[attr-defined]
    monkeypatch.setattr(aiokafka, "send_batch", Submitted(aiokafka))
    original = BatchBuilder.append

    def remembering(self: BatchBuilder, **record: Any) -> Any:
        found = original(self, **record)
        if found is not None:
            self.appended = [*getattr(self, "appended", []), record["value"]]
        return found

    monkeypatch.setattr(BatchBuilder, "append", remembering)
    return BatchWriter(app)


def submitted(writer: BatchWriter) -> Submitted:
    """Return the send_batch stand-in of the writer's producer."""
    found: Submitted = writer.producer().send_batch
    return found


async def test_records_of_a_partition_share_one_ack_until_it_is_submitted(
    writer: BatchWriter,
) -> None:
    """One open batch per topic partition; a submit hands each once and opens new ones."""
    first = writer.append("out", 0, b"k", b"a", [])
    assert writer.append("out", 0, b"k", b"b", []) is first
    other = writer.append("out", 1, b"k", b"c", [])
    assert other is not first
    assert await writer.submit() == 2
    assert submitted(writer).calls == [("out", 0, [b"a", b"b"]), ("out", 1, [b"c"])]
    assert writer.append("out", 0, b"k", b"d", []) is not first
    await writer.producer().stop()


async def drain_released(accumulator: Any) -> None:
    """Act as aiokafka's sender, which takes a partition's first batch once it is released."""
    while True:
        for tp, queue in list(accumulator._batches.items()):
            if queue and queue[0]._linger_time == 0:
                accumulator._pop_batch(tp)
        await asyncio.sleep(0.001)


async def test_a_full_batch_is_closed_and_submitted_before_the_next(writer: BatchWriter) -> None:
    """A partition's records stay in order across batches; each is released for the next."""
    accumulator = writer.producer()._message_accumulator
    accumulator._batch_size = 100
    acks = [writer.append("out", 3, b"k", bytes([n]) * 60, []) for n in range(3)]
    assert len(set(map(id, acks))) == 3  # each 60-byte record fills a 100-byte batch
    sender = asyncio.create_task(drain_released(accumulator))
    try:
        # aiokafka queues a partition's batch only once the one before is drained
        assert await asyncio.wait_for(writer.submit(), 2) == 3
    finally:
        sender.cancel()
    assert [batch[0][0] for *_, batch in submitted(writer).calls] == [0, 1, 2]
    await writer.producer().stop()


async def test_an_ack_carries_the_outcome_of_aiokafkas_batch(writer: BatchWriter) -> None:
    """The records' shared ack resolves with the batch's metadata (its base offset)."""
    ack = writer.append("out", 2, b"k", b"v", [])
    await writer.submit()
    [queued] = writer.producer()._message_accumulator._batches[TopicPartition("out", 2)]
    queued.done(base_offset=41)
    written = await asyncio.wait_for(ack, 1)
    assert (written.topic_partition, written.offset) == (TopicPartition("out", 2), 41)
    await writer.producer().stop()


async def test_a_failed_batch_stops_the_worker(
    writer: BatchWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiokafka's failure reaches the ack, whose callback stops consuming."""
    stops: list[str] = []
    monkeypatch.setattr(produce, "stop_consuming", lambda exc: stops.append(repr(exc)))
    ack = writer.append("out", 2, b"k", b"v", [])
    await writer.submit()
    [queued] = writer.producer()._message_accumulator._batches[TopicPartition("out", 2)]
    queued.failure(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(ack, 1)
    await asyncio.sleep(0)  # the ack's callbacks run
    assert stops == ["ConnectionError('broker gone')"]
    await writer.producer().stop()


async def test_a_batch_aiokafka_refuses_stops_the_worker(
    writer: BatchWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """send_batch raising (a closed producer, a timeout) fails the ack of its records."""
    stops: list[str] = []
    monkeypatch.setattr(produce, "stop_consuming", lambda exc: stops.append(repr(exc)))
    aiokafka = writer.producer()
    monkeypatch.setattr(aiokafka, "send_batch", Submitted(aiokafka, TimeoutError("full")))
    ack = writer.append("out", 0, b"k", b"v", [])
    await writer.submit()
    assert isinstance(ack.exception(), TimeoutError)
    await asyncio.sleep(0)
    assert stops == ["TimeoutError('full')"]
    await aiokafka.stop()


async def test_a_publisher_appends_keyed_records_to_the_partition_of_their_key(
    writer: BatchWriter,
) -> None:
    """As aiokafka's send would place them, so a resource's records stay in one partition."""
    publish = batch_publisher(writer, "commands")
    ack = await publish(b"conv-7", b"v", [("h", b"1")])
    expected = DefaultPartitioner()(b"conv-7", list(range(PARTITIONS)), [])
    assert writer._open[("commands", expected)].ack is ack
    await writer.producer().stop()


async def test_a_metadata_update_places_keys_over_the_new_partition_count(
    writer: BatchWriter,
) -> None:
    """The partitions are remembered only until aiokafka's cluster metadata next changes."""
    placed = [await writer.partition_for("commands", f"conv-{n}".encode()) for n in range(64)]
    assert max(placed) < PARTITIONS
    update(writer.producer()._metadata, {"commands": 3 * PARTITIONS})
    placed = [await writer.partition_for("commands", f"conv-{n}".encode()) for n in range(64)]
    expected = [
        DefaultPartitioner()(f"conv-{n}".encode(), list(range(3 * PARTITIONS)), [])
        for n in range(64)
    ]
    assert placed == expected
    assert max(placed) >= PARTITIONS
    await writer.producer().stop()


def test_aiokafka_tells_its_listeners_of_every_metadata_update() -> None:
    """After replacing the partitions: what lets the writer forget the ones it remembered."""
    source = inspect.getsource(ClusterMetadata.update_metadata)
    assert source.index("self._partitions = _new_partitions") < source.index("listener(self)")
    assert "def add_listener(self, listener)" in inspect.getsource(ClusterMetadata)


@settings(max_examples=300, deadline=None)
@given(key=st.binary(min_size=1, max_size=40), count=st.integers(1, 64))
def test_the_remembered_hash_places_keys_as_aiokafka_does(key: bytes, count: int) -> None:
    """The cached murmur2 gives aiokafka's DefaultPartitioner's partition for every key."""
    partitions = list(range(count))
    assert partitions[key_hash(key) % count] == DefaultPartitioner()(key, partitions, partitions)


async def test_without_a_started_producer_a_send_is_a_kafka_failure() -> None:
    """A platform error (the worker stops), not the record's (it would be dead-lettered)."""
    writer = BatchWriter(faust.App("unstarted", store="memory://", autodiscover=False))
    with pytest.raises(KafkaFailureError):
        _ack = await writer.send("out", b"k", b"v", 0, None, None)


async def test_install_submits_before_fausts_flush(writer: BatchWriter) -> None:
    """faust's commit awaits `app.producer.flush()`: the open batches go to aiokafka first."""
    order: list[str] = []
    producer: Any = writer.app.producer

    async def aiokafka_flush() -> None:
        order.append(f"flush after {len(submitted(writer).calls)} submitted")

    producer.flush = aiokafka_flush
    writer.install(0.01)
    _ack = writer.append("out", 0, b"k", b"v", [])
    await producer.flush()
    assert order == ["flush after 1 submitted"]
    await writer.producer().stop()


def test_aiokafka_offers_the_batch_api_the_writer_uses() -> None:
    """create_batch, send_batch and the partitioner's inputs, as aiokafka 0.14 has them."""
    assert list(inspect.signature(AIOKafkaProducer.send_batch).parameters) == [
        "self",
        "batch",
        "topic",
        "partition",
    ]
    source = inspect.getsource(AIOKafkaProducer._partition)
    assert "self._metadata.partitions_for_topic(topic)" in source
    assert "self._partitioner(serialized_key, all_partitions, available)" in source
    assert "idx %= len(all_partitions)" in inspect.getsource(DefaultPartitioner.__call__)


def test_an_empty_builder_takes_a_record_larger_than_the_batch() -> None:
    """append opens a new batch for a record that did not fit: it always takes the first."""
    builder = BatchBuilder(100, 0)
    assert builder.append(timestamp=None, key=b"k", value=b"x" * 1000, headers=[])
    assert builder.append(timestamp=None, key=b"k", value=b"y", headers=[]) is None


def test_the_module_keeps_the_hash_cache_bounded() -> None:
    """Keys are resource ids, unbounded over time: the cache must not grow with them."""
    assert key_hash.cache_info().maxsize == batches_module.HASHED_KEYS
