"""Drains the spool to Kafka in arrival order once the broker acknowledges again."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from ingress import records
from ingress.errors import ProducerFailedError, RecordRefusedError
from ingress.metrics import Metrics
from ingress.producer import KafkaProducer
from ingress.producer_link import ProducerLink, Sleep
from ingress.spool.store import Spool, SpoolEntry

if TYPE_CHECKING:  # the persistence appends to the spool: importing it here would be a cycle
    from ingress.persistence import Persistence

log = structlog.get_logger("ingress.drain")
BATCH = 500
RETRY_SECONDS = 0.5
# A backstop against a wedged producer. librdkafka retries each send until the broker takes it, so
# sends pending through an outage are expected: only sends still pending after a whole stall
# period with a broker answering at both ends replace the producer (whose purge may duplicate).
STALL_SECONDS = 45.0


class Drainer:
    """Sends spooled records oldest first and marks them drained once acknowledged."""

    def __init__(
        self,
        link: ProducerLink,
        spool: Spool,
        persistence: Persistence,
        metrics: Metrics,
        sleep: Sleep = asyncio.sleep,
        stall: float = STALL_SECONDS,
    ) -> None:
        """Wire the producer link, the spool and the sends still in flight."""
        self._link = link
        self._spool = spool
        self._persistence = persistence
        self._metrics = metrics
        self._sleep = sleep
        self._stall = stall

    async def run(self) -> None:
        """Drain forever: read a batch, send it, mark the acknowledged prefix drained."""
        while True:
            entries = await self._spool.read(BATCH)
            producer = await self._link.connected()
            try:
                drained, refused = await self._send(producer, entries)
                await self._spool.keep_refused(refused)
                await self._spool.mark_drained(entries[:drained])
            except OSError as exc:
                log.exception("spool.mark_failed", error=str(exc))
                drained = 0
            self._forget(entries[:drained])
            if drained < len(entries):
                await self._sleep(RETRY_SECONDS)

    async def finish(self) -> None:
        """After the final flush, mark drained the spooled prefix whose sends were acknowledged.

        Called once the drainer loop is cancelled and the producer flushed at shutdown: without
        it, records acknowledged during the flush would stay spooled and be sent again next start.
        """
        if not self._spool.depth:
            return
        entries = await self._spool.read(BATCH)
        prefix = 0
        for entry in entries:
            future = self._persistence.in_flight.get(entry.seq)
            if future is None or not future.done() or future.cancelled() or future.exception():
                break
            prefix += 1
        await self._spool.mark_drained(entries[:prefix])
        self._forget(entries[:prefix])

    async def _send(
        self, producer: KafkaProducer, entries: list[SpoolEntry]
    ) -> tuple[int, list[SpoolEntry]]:
        """Send the entries in order; return the settled prefix length and the refused in it."""
        futures: list[asyncio.Future[Any]] = []
        for entry in entries:
            future = self._persistence.in_flight.get(entry.seq)
            if future is None:
                future = producer.send(records.decode(entry.payload))
                self._persistence.in_flight[entry.seq] = future
            futures.append(future)
        results = await self._outcomes(producer, futures)
        prefix, refused = self._settle(entries, results)
        self._persistence.failing = prefix < len(entries)
        return prefix, refused

    async def _outcomes(
        self, producer: KafkaProducer, futures: list[asyncio.Future[Any]]
    ) -> list[Any]:
        """Wait for the sends, replacing the producer if it stalls or can no longer send."""
        await self._await_sends(producer, set(futures))
        results = await asyncio.gather(*futures, return_exceptions=True)
        if any(isinstance(result, ProducerFailedError) for result in results):
            self._link.replace(producer, "the producer can no longer send")
        return results

    async def _await_sends(
        self, producer: KafkaProducer, pending: set[asyncio.Future[Any]]
    ) -> None:
        """Wait for the sends; replace the producer if they stall while a broker answers."""
        answered = False
        while pending:
            _, pending = await asyncio.wait(pending, timeout=self._stall)
            answering = bool(pending) and await producer.reachable()
            if answered and answering:
                reason = f"{len(pending)} sends unacknowledged for {self._stall}s, broker up"
                self._link.replace(producer, reason)
                return
            answered = answering

    def _settle(
        self, entries: list[SpoolEntry], results: list[Any]
    ) -> tuple[int, list[SpoolEntry]]:
        """Forget failed sends (to be retried); return the settled prefix length and refusals."""
        prefix, intact, refused = 0, True, []
        for entry, result in zip(entries, results, strict=False):
            if isinstance(result, RecordRefusedError):
                refused += [entry] if intact else []
            elif isinstance(result, BaseException):
                self._persistence.in_flight.pop(entry.seq, None)
                intact = False
            prefix += intact
        return prefix, refused

    def _forget(self, entries: list[SpoolEntry]) -> None:
        """Drop the in-flight futures of drained entries and count them."""
        for entry in entries:
            self._persistence.in_flight.pop(entry.seq, None)
        self._metrics.spool_drained.inc(len(entries))
