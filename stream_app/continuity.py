"""Makes sure every offset of a partition reaches the pipeline: skipped ranges are read again.

faust-streaming can skip records around a rebalance or restart: its seek to the committed
offset races with records already fetched from the old position, and it then counts the
offsets in between as a "gap" (acknowledged, never delivered). The notifications topic has
contiguous offsets, so any forward jump is such a skip. The actor reads the missing range with
a plain consumer and handles it before the record that revealed it; since that record is not
acknowledged until then, no offset past an unhandled record is ever committed. Once handled,
the range is reported as acknowledged (`acknowledge`: faust's gap bookkeeping in the worker),
since faust never acknowledges offsets it did not deliver and would otherwise never commit
past them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from stream_app.errors import RecordsMissingError
from stream_app.source import Source

log = structlog.get_logger("stream_app.continuity")


@dataclass(frozen=True)
class RangeReader:
    """Reads committed offsets and ranges of records straight from Kafka, outside faust."""

    bootstrap_servers: list[str]
    group_id: str
    timeout_seconds: float = 30.0

    async def start_offset(self, topic: str, partition: int) -> int:
        """Return where the group resumes: its committed offset, else the log start."""
        tp = TopicPartition(topic, partition)
        async with asyncio.timeout(self.timeout_seconds):
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
            await admin.start()
            try:
                committed = await admin.list_consumer_group_offsets(self.group_id, partitions=[tp])
            finally:
                await admin.close()
            found = committed.get(tp)
            if found is not None and found.offset >= 0:
                return int(found.offset)
            return await self._log_start(tp)

    async def _log_start(self, tp: TopicPartition) -> int:
        """Return the first offset still in the partition's log."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers)
        await consumer.start()
        try:
            return int((await consumer.beginning_offsets([tp]))[tp])
        finally:
            await consumer.stop()

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Source]:
        """Return the records at offsets [start, end), in order; raise RecordsMissingError."""
        tp = TopicPartition(topic, partition)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            consumer.seek(tp, start)
            return await self._collect(consumer, tp, end)
        finally:
            await consumer.stop()

    async def _collect(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, end: int
    ) -> list[Source]:
        """Fetch until the record before `end` arrived, failing after the timeout."""
        found: list[Source] = []
        try:
            async with asyncio.timeout(self.timeout_seconds):
                while not found or found[-1].offset < end - 1:
                    batch = await consumer.getmany(tp, timeout_ms=500)
                    records = batch.get(tp, [])
                    found.extend(Source.from_record(r) for r in records if r.offset < end)
        except TimeoutError:
            raise RecordsMissingError(f"could not read {tp} up to offset {end}") from None
        return found


Handle = Callable[[Source], Awaitable[None]]
Acknowledge = Callable[[str, int, int, int], Awaitable[None]]  # topic, partition, [start, end)


async def acknowledged_nowhere(topic: str, partition: int, start: int, end: int) -> None:
    """Report a handled range to nobody (a reader outside faust)."""


class Reader(Protocol):
    """Where a partition resumes, and the records of an offset range (RangeReader in workers)."""

    async def start_offset(self, topic: str, partition: int) -> int:
        """Return the offset the group resumes the partition at."""

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Source]:
        """Return the records at offsets [start, end)."""


@dataclass
class Continuity:
    """One actor's next expected offset per partition, filling any range the stream skipped."""

    reader: Reader
    on_reread: Callable[[int], None] = lambda count: None
    acknowledge: Acknowledge = acknowledged_nowhere
    # Hears (topic, partition, next): every offset from the start offset up to `next - 1` has
    # reached the handler, the last one possibly still in progress (seek.HandledOffsets).
    on_advance: Callable[[str, int, int], None] = lambda topic, partition, offset: None
    _next: dict[int, int] = field(default_factory=dict)

    async def feed(self, source: Source, handle: Handle) -> None:
        """Handle the records skipped before this one (usually none), then this one."""
        missed = await self.skipped(source)
        for record in missed:
            await handle(record)
        if missed:
            await self.acknowledge(source.topic, source.partition, missed[0].offset, source.offset)
        await handle(source)

    async def skipped(self, source: Source) -> list[Source]:
        """Return the records between the expected offset and this one; RecordsMissingError."""
        try:
            return await self._skipped(source)
        except RecordsMissingError:
            raise
        except Exception as exc:
            raise RecordsMissingError(f"checking for skipped records failed: {exc!r}") from exc

    async def _skipped(self, source: Source) -> list[Source]:
        """Advance the expected offset; read the range this record jumped over, if any."""
        if source.partition not in self._next:
            self._next[source.partition] = await self.reader.start_offset(
                source.topic, source.partition
            )
        expected = self._next[source.partition]
        self._next[source.partition] = max(expected, source.offset + 1)
        self.on_advance(source.topic, source.partition, self._next[source.partition])
        if source.offset <= expected:
            return []
        log.warning(
            "stream.skipped_records",
            topic=source.topic,
            partition=source.partition,
            first=expected,
            until=source.offset,
        )
        missed = await self.reader.read(source.topic, source.partition, expected, source.offset)
        self.on_reread(len(missed))
        return missed
