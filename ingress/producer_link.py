"""The producer link: starts the producer in the background and retries until a broker answers.

The ingress must start, and spool, while no broker answers, so the link keeps trying in the
background and exposes the producer once it is connected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from ingress.errors import KafkaUnavailableError
from ingress.producer import KafkaProducer

log = structlog.get_logger("ingress.producer_link")
ProducerFactory = Callable[[], KafkaProducer]
Sleep = Callable[[float], Awaitable[None]]
RETRY_SECONDS = 1.0
FLUSH_SECONDS = 5.0


class ProducerLink:
    """Owns the producer: connects in the background and flushes it on close."""

    def __init__(
        self, factory: ProducerFactory, sleep: Sleep = asyncio.sleep, retry: float = RETRY_SECONDS
    ) -> None:
        """Remember how to build a producer; nothing connects until start()."""
        self.producer: KafkaProducer | None = None
        self._factory = factory
        self._sleep = sleep
        self._retry = retry
        self._ready: asyncio.Future[KafkaProducer] | None = None
        self._task: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start connecting in the background."""
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._connect())

    def replace(self, failed: KafkaProducer, reason: str) -> None:
        """Retire the failed producer, failing its unsent batches, and connect a fresh one.

        Does nothing unless `failed` is still the current producer: a late error from one
        already replaced must not retire its healthy successor (and purge sends that may land).
        """
        old = self.producer
        if old is None or old is not failed:
            return
        log.warning("kafka.producer_replaced", reason=reason)
        self.producer = None
        old.abandon()
        retiring = asyncio.create_task(old.stop())
        self._retired.add(retiring)
        retiring.add_done_callback(self._retired.discard)
        self.start()

    async def connected(self) -> KafkaProducer:
        """Wait until the producer is connected and return it."""
        if self._ready is None:
            raise RuntimeError("ProducerLink.start() was not called")
        return await asyncio.shield(self._ready)

    async def _connect(self) -> None:
        """Try to start a producer until one bootstraps, waiting between attempts."""
        attempt = 0
        while self.producer is None:
            attempt += 1
            producer = self._factory()
            if not await self._start(producer, attempt):
                await self._sleep(self._retry)
                continue
            self.producer = producer
            if self._ready is not None:
                self._ready.set_result(producer)
            log.info("kafka.connected", attempt=attempt)

    async def _start(self, producer: KafkaProducer, attempt: int) -> bool:
        """Start one producer; on failure or cancellation close it so no socket leaks."""
        started = False
        try:
            await producer.start()
            started = True
        except KafkaUnavailableError as exc:
            log.warning("kafka.connect_failed", attempt=attempt, error=repr(exc))
        finally:
            if not started:
                await producer.stop()
        return started

    async def close(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        """Stop connecting, flush what is in flight for a bounded time, and close the producer."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        await asyncio.gather(*self._retired, return_exceptions=True)
        if self.producer is None:
            return
        if not await self.producer.flush(flush_seconds):
            log.warning("kafka.flush_timed_out", seconds=flush_seconds)
            self.producer.abandon()
        await self.producer.stop()
