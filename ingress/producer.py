"""The ingress's Kafka producer: librdkafka's idempotent producer, deliveries as asyncio futures.

librdkafka batches, retries and keeps several requests in flight on its own threads, so one
webhook costs the event loop a single produce() call. A poll thread serves the delivery reports
and hands them to the event loop in bulk, one wake-up per batch of reports.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from functools import partial
from typing import Any, Protocol

import structlog
from confluent_kafka import KafkaError, KafkaException, Producer

from ingress.errors import (
    DeliveryError,
    DeliveryTimeoutError,
    KafkaUnavailableError,
    ProducerFailedError,
    RecordRefusedError,
)
from ingress.records import Record

log = structlog.get_logger("ingress.producer")
POLL_SECONDS = 0.05
PROBE_SECONDS = 5.0
# 0: no delivery timeout. librdkafka retries each record under its sequence number until the
# broker acknowledges it, and the broker drops a retry of a write it already has. A timeout would
# fail a record that a stopping broker wrote without acknowledging, and the drainer would send its
# spooled copy again: a duplicate (and records queued behind a timed-out one could land first).
DELIVERY_TIMEOUT_MS = 0
# Kafka refuses these records for good; retrying would block the spool behind them forever.
REFUSED_CODES = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_MSG,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
    }
)


class KafkaProducer(Protocol):
    """What the ingress needs of a producer; tests substitute a fake."""

    async def start(self) -> None:
        """Connect; raises KafkaUnavailableError when no broker answers."""

    def send(self, record: Record) -> asyncio.Future[None]:
        """Queue a record; the future resolves on acknowledgement or fails with DeliveryError."""

    def detach(self, future: asyncio.Future[None]) -> asyncio.Future[None]:
        """Fail a pending send's future with DeliveryTimeoutError; return its `late` future."""

    async def flush(self, seconds: float) -> bool:
        """Wait up to `seconds` for every queued record; return whether all were settled."""

    async def reachable(self) -> bool:
        """Return whether a broker answers a metadata request."""

    def abandon(self) -> None:
        """Fail every record not yet acknowledged."""

    async def stop(self) -> None:
        """Release the producer."""


def producer_config(bootstrap: list[str], client_id: str, max_bytes: int) -> dict[str, Any]:
    """Return librdkafka settings: idempotent, acks=all, the Java client's key partitioning."""
    return {
        "bootstrap.servers": ",".join(bootstrap),
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 1,
        "partitioner": "murmur2_random",
        "message.max.bytes": max_bytes + 64 * 1024,
        "message.timeout.ms": DELIVERY_TIMEOUT_MS,
        "reconnect.backoff.max.ms": 1000,
        "socket.nagle.disable": True,
        "logger": logging.getLogger("ingress.librdkafka"),
    }


def delivery_error(error: KafkaError) -> DeliveryError | RecordRefusedError:
    """Return the ingress error for a librdkafka error, by what a retry can do about it."""
    message = f"{error.name()}: {error.str()}"
    if error.code() in REFUSED_CODES:
        return RecordRefusedError(message)
    if error.fatal():
        return ProducerFailedError(message)
    return DeliveryError(message)


class RdKafkaProducer:
    """One librdkafka producer with a poll thread that resolves futures on the event loop."""

    def __init__(self, config: dict[str, Any], probe_seconds: float = PROBE_SECONDS) -> None:
        """Remember the settings; nothing connects until start()."""
        self._config = {**config, "error_cb": self._on_error}
        self._probe_seconds = probe_seconds
        self._producer: Producer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reports: list[tuple[asyncio.Future[None], KafkaError | None]] = []
        self._late: dict[asyncio.Future[None], asyncio.Future[None]] = {}
        self._lock = threading.Lock()
        self._scheduled = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Create the producer, start polling, and wait until a broker answers for metadata."""
        self._loop = asyncio.get_running_loop()
        self._producer = producer = Producer(self._config)
        self._thread = threading.Thread(
            target=self._poll, args=(producer,), name="kafka-poll", daemon=True
        )
        self._thread.start()
        try:
            await asyncio.to_thread(producer.list_topics, timeout=self._probe_seconds)
        except KafkaException as exc:
            raise KafkaUnavailableError(f"no broker answered: {exc}") from exc

    def send(self, record: Record) -> asyncio.Future[None]:
        """Queue the record and return the future of its acknowledgement."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._producer is None:
            future.set_exception(DeliveryError("the producer is not running"))
            return future
        try:
            self._producer.produce(
                record.topic, record.value, record.key, headers=list(record.headers),
                on_delivery=partial(self._report, future),
            )  # fmt: skip
        except KafkaException as exc:
            future.set_exception(delivery_error(exc.args[0]))
        except BufferError as exc:
            future.set_exception(DeliveryError(f"the producer's queue is full: {exc}"))
        return future

    def detach(self, future: asyncio.Future[None]) -> asyncio.Future[None]:
        """Fail a pending send's future with DeliveryTimeoutError; its report goes to `late`."""
        late: asyncio.Future[None] = future.get_loop().create_future()
        self._late[future] = late
        future.set_exception(DeliveryTimeoutError(late))
        return late

    async def flush(self, seconds: float) -> bool:
        """Wait up to `seconds` for every queued record; return whether all were settled."""
        if self._producer is None:
            return True
        remaining = await asyncio.to_thread(self._producer.flush, seconds)
        return remaining == 0

    async def reachable(self) -> bool:
        """Return whether a broker answers a metadata request within the probe time."""
        if self._producer is None:
            return False
        try:
            await asyncio.to_thread(self._producer.list_topics, timeout=self._probe_seconds)
        except KafkaException:
            return False
        return True

    def abandon(self) -> None:
        """Purge what librdkafka still holds; the purged records' futures fail."""
        if self._producer is not None:
            self._producer.purge(in_queue=True, in_flight=True, blocking=False)

    async def stop(self) -> None:
        """Stop the poll thread, fail what is left, serve the last reports and drop the producer."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self._producer is not None:
            self._producer.purge(in_queue=True, in_flight=True, blocking=True)
            self._producer.poll(0)
            self._producer = None
        self._settle()

    def _poll(self, producer: Producer) -> None:
        """Serve delivery reports until stopped (runs on the poll thread)."""
        while not self._stopping.is_set():
            producer.poll(POLL_SECONDS)

    def _report(self, future: asyncio.Future[None], error: KafkaError | None, _: object) -> None:
        """Queue one delivery report and wake the event loop once per batch of reports."""
        with self._lock:
            self._reports.append((future, error))
            if self._scheduled or self._loop is None:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._settle)
        except RuntimeError:  # the loop is closed: nobody waits for these futures any more
            return

    def _settle(self) -> None:
        """Resolve the futures of every queued report (runs on the event loop)."""
        with self._lock:
            reports, self._reports, self._scheduled = self._reports, [], False
        for sent, error in reports:
            future = self._late.pop(sent, None) if sent.done() else sent
            if future is None or future.done():
                continue  # its request was cancelled: nobody waits for it
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(delivery_error(error))

    def _on_error(self, error: KafkaError) -> None:
        """Log a client-level error (broker down, authentication) from librdkafka."""
        log.warning("kafka.client_error", code=error.name(), error=error.str(), fatal=error.fatal())


def durable_producer(bootstrap_servers: list[str], client_id: str, max_bytes: int) -> KafkaProducer:
    """Return an idempotent producer that waits for every in-sync replica (acks=all)."""
    return RdKafkaProducer(producer_config(bootstrap_servers, client_id, max_bytes))
