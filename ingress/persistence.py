"""Makes each record durable before the request is answered: on Kafka, or else on the spool.

Kafka first, bounded by a produce timeout well inside Intercom's 5 s. A record that Kafka does
not acknowledge in time goes to the spool, and so does every record while the spool is not
empty, so that arrival order holds. When a send timed out, the future of its eventual outcome
(the producer's `late` future) is kept beside the spooled copy: the drainer waits for that
future instead of sending the record a second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Literal

import structlog

from ingress import records
from ingress.deadlines import Deadlines
from ingress.errors import DeliveryTimeoutError, ProducerFailedError, SpoolUnavailableError
from ingress.metrics import Metrics
from ingress.producer import KafkaProducer
from ingress.producer_link import ProducerLink
from ingress.records import Record
from ingress.spool import Spool

log = structlog.get_logger("ingress.persistence")
PRODUCE_TIMEOUT_SECONDS = 2.0
Outcome = Literal["produced", "spooled"]


def _forget(future: asyncio.Future[Any]) -> None:
    """Mark a settled future's outcome as seen, so that asyncio does not log it as unretrieved."""
    if not future.cancelled():
        future.exception()


class Persistence:
    """Chooses Kafka or the spool for each record and remembers sends still in flight."""

    def __init__(
        self,
        link: ProducerLink,
        spool: Spool,
        metrics: Metrics,
        timeout: float = PRODUCE_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Wire the producer link, the spool and the metrics."""
        self.in_flight: dict[int, asyncio.Future[Any]] = {}
        self.failing = False
        self._link = link
        self.spool = spool
        self._metrics = metrics
        self._deadlines = Deadlines(timeout)
        self._clock = clock

    @property
    def kafka_healthy(self) -> bool:
        """Whether the producer is connected and its last send was acknowledged."""
        return self._link.producer is not None and not self.failing

    async def persist(self, record: Record) -> Outcome:
        """Return once the record is acknowledged by Kafka or fsync'd to the spool."""
        producer, pending = self._link.producer, None
        if producer is not None and self.spool.depth == 0:
            acknowledged, pending = await self._produce(producer, record)
            if acknowledged:
                return "produced"
        await self._spool_record(record, pending)
        return "spooled"

    async def _produce(
        self, producer: KafkaProducer, record: Record
    ) -> tuple[bool, asyncio.Future[Any] | None]:
        """Send and wait up to the timeout; return whether acknowledged, and any pending send."""
        start, future = self._clock(), producer.send(record)
        self._deadlines.watch(future, producer.detach)
        try:
            await future
        except DeliveryTimeoutError as timeout:
            self._note_failure("produce timed out", record)
            return False, timeout.late
        except Exception as error:  # noqa: BLE001 - whatever failed the send, the spool takes it
            self._note_failure(repr(error), record)
            if isinstance(error, ProducerFailedError):
                self._link.replace(producer, repr(error))
            return False, None
        self.failing = False
        self._metrics.produce_latency.observe(self._clock() - start)
        return True, None

    def _note_failure(self, error: str, record: Record) -> None:
        """Mark Kafka as failing and log it once per failing stretch."""
        if not self.failing:
            log.warning("kafka.unavailable", error=error, topic=record.topic, action="spooling")
        self.failing = True

    async def _spool_record(self, record: Record, pending: asyncio.Future[Any] | None) -> None:
        """Append to the spool and wait for the fsync; raises SpoolUnavailableError."""
        seq, durable = self.spool.append(records.encode(record))
        if pending is not None:
            self.in_flight[seq] = pending
        try:
            await durable
        except SpoolUnavailableError:
            if (late := self.in_flight.pop(seq, None)) is not None:
                late.add_done_callback(_forget)  # nobody waits for it any more
            raise
