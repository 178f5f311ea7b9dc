"""The worker's records appended to one open batch per partition, handed to aiokafka whole.

aiokafka's `send` costs about 40 µs a record on this machine: a coroutine, the partitioner,
a future per record, and, once acknowledged, a RecordMetadata and a callback per record. Its
`create_batch`/`send_batch` append a record to a C builder (about 1 µs) and resolve one future
per batch. A faust agent sending four records an event ran at 3,200 events/s with `send` and
at 6,200/s with batches, as fast as the agent sending nothing (docs/benchmarks.md, session 10).

Records are appended in the order the actors produce them, to one open builder per topic
partition (a full one is closed and a new one opened). `submit` hands the builders to
aiokafka in that order, one submitter at a time, so a partition's records keep their order.
It runs every RELEASE_SECONDS, and before faust commits: faust's commit awaits
`producer.flush()` first, which `install` makes submit the open builders before aiokafka's
own flush waits for them, so no offset is committed past a record still held here. A record
gets its batch's acknowledgement; a failed or cancelled batch stops the worker.

A topic's partitions are remembered until aiokafka's metadata next changes (a listener of its
cluster metadata forgets them): `partitions_for_topic` builds a new set on each call, twice a
record before, about 2 % of the worker's CPU.

Private seams: faust's `Producer._producer`; aiokafka's `_partition`, `_metadata` and
`client` (test_faust_batches.py checks them).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka.partitioner import DefaultPartitioner, murmur2

from stream_app.errors import KafkaFailureError
from stream_app.faust.produce import release_batches, stop_if_failed
from stream_app.ports import Publish

Headers = list[tuple[str, bytes]]
# Keys whose hash is remembered: the pure-Python murmur2 cost 15 µs a keyed record, and the
# outputs' keys (conversations, contacts) repeat. Bounded, so memory does not grow with them.
HASHED_KEYS = 65_536


@functools.lru_cache(maxsize=HASHED_KEYS)
def key_hash(key: bytes) -> int:
    """Return the key's murmur2 hash as aiokafka's DefaultPartitioner uses it."""
    return int(murmur2(key)) & 0x7FFFFFFF


@dataclass
class Batch:
    """One open builder of a topic partition and the acknowledgement its records share."""

    builder: Any
    ack: asyncio.Future[Any]


@dataclass
class BatchWriter:
    """Appends records to per-partition batches; `submit` hands them to aiokafka in order."""

    app: faust.App
    _open: dict[tuple[str, int], Batch] = field(default_factory=dict)
    _closed: list[tuple[tuple[str, int], Batch]] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _partitions: dict[str, list[int]] = field(default_factory=dict)
    _metadata: Any = None  # aiokafka's ClusterMetadata whose changes clear `_partitions`

    def producer(self) -> Any:
        """Return aiokafka's producer; a KafkaFailureError if faust has not started it."""
        producer = self.app.producer._producer  # type: ignore[attr-defined]
        if producer is None:
            raise KafkaFailureError("the producer is not started")
        return producer

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: Headers | None,
    ) -> asyncio.Future[Any]:
        """Append a record (faust's `Producer.send` arguments); return its batch's ack."""
        if partition is None:
            partition = await self.partition_for(topic, key)
        stamp = None if timestamp is None else int(timestamp * 1000)
        return self.append(topic, partition, key, value, headers or [], stamp)

    async def partition_for(self, topic: str, key: bytes | None) -> int:
        """Return the partition aiokafka's partitioner gives the key (metadata fetched if new)."""
        producer = self.producer()
        partitions = self.partitions(producer._metadata, topic)
        if not partitions:
            await producer.client._wait_on_metadata(topic)
            partitions = self.partitions(producer._metadata, topic)
        if key is None or not isinstance(producer._partitioner, DefaultPartitioner):
            return int(producer._partition(topic, None, None, None, key, None))
        # DefaultPartitioner.__call__, with the key's hash remembered.
        return partitions[key_hash(key) % len(partitions)]

    def partitions(self, metadata: Any, topic: str) -> list[int]:
        """Return the topic's partitions as aiokafka lists them, remembered until it updates."""
        if metadata is not self._metadata:
            metadata.add_listener(lambda _cluster: self._partitions.clear())
            self._metadata = metadata
            self._partitions.clear()
        found = self._partitions.get(topic)
        if found is None:
            found = list(metadata.partitions_for_topic(topic) or ())
            if found:
                self._partitions[topic] = found
        return found

    def append(
        self,
        topic: str,
        partition: int,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        timestamp_ms: int | None = None,
    ) -> asyncio.Future[Any]:
        """Append to the partition's open batch (a new one if it is full); return its ack."""
        tp = (topic, partition)
        record = {"timestamp": timestamp_ms, "key": key, "value": value, "headers": headers}
        batch = self._open.get(tp) or self._open_batch(tp)
        if batch.builder.append(**record) is not None:  # None: the batch is full
            return batch.ack
        self._closed.append((tp, batch))
        batch = self._open_batch(tp)  # an empty builder takes any first record
        batch.builder.append(**record)
        return batch.ack

    def _open_batch(self, tp: tuple[str, int]) -> Batch:
        """Open a new batch for the partition; a failure of its ack stops the worker."""
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        ack.add_done_callback(stop_if_failed)
        batch = self._open[tp] = Batch(self.producer().create_batch(), ack)
        return batch

    async def submit(self) -> int:
        """Hand every batch to aiokafka, oldest first, and release them; count them."""
        async with self._lock:
            ready = [*self._closed, *self._open.items()]
            self._closed, self._open = [], {}
            handed: set[tuple[str, int]] = set()
            for tp, batch in ready:
                if tp in handed:  # aiokafka takes it once the one before is drained
                    release_batches(self.app)
                handed.add(tp)
                await self._submit_one(tp, batch)
            release_batches(self.app)
            return len(ready)

    async def _submit_one(self, tp: tuple[str, int], batch: Batch) -> None:
        """Hand one batch to aiokafka; its outcome becomes the batch's ack."""
        try:
            sent = await self.producer().send_batch(batch.builder, tp[0], partition=tp[1])
        except Exception as exc:  # noqa: BLE001 - the ack carries it; its callback stops
            batch.ack.set_exception(exc)
            return
        sent.add_done_callback(functools.partial(_settle, batch.ack))

    def install(self, seconds: float) -> None:
        """Submit every `seconds`, and before faust's commit flushes the producer."""
        app = self.app

        async def submit() -> None:
            await self.submit()

        timer: Any = app.timer(seconds, name="submit-produce-batches")
        timer(submit)
        producer: Any = app.producer
        flush = producer.flush

        async def flush_batches_first() -> None:
            await self.submit()
            await flush()

        producer.flush = flush_batches_first


def _settle(ack: asyncio.Future[Any], sent: asyncio.Future[Any]) -> None:
    """Give the batch's ack the outcome of aiokafka's batch future."""
    if ack.done():
        return
    if sent.cancelled():
        ack.cancel()
    elif (error := sent.exception()) is not None:
        ack.set_exception(error)
    else:
        ack.set_result(sent.result())


def batch_publisher(batches: BatchWriter, topic: str) -> Publish:
    """Return a function that appends to the topic's batches and returns the ack future."""

    async def publish(key: bytes, value: bytes, headers: Headers) -> Any:
        return await batches.send(topic, key, value, None, None, headers)

    return publish
