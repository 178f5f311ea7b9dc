"""Processes one notification record end to end.

It raises only when the record must not be committed: the dead-letter write failed, or the
platform (Kafka, a topic, a table) failed, which says nothing about the record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from pydantic import ValidationError

from intercom_stream.errors import AttemptsExhaustedError, SignatureError, is_retriable
from intercom_stream.signature import Verifier
from schemas import Notification, headers
from schemas.dead_letter import Stage
from stream_app.catalog import canonical_topic
from stream_app.dead_letters import (
    DeadLetterSend,
    dead_letter,
    dead_letter_headers,
    write_dead_letter,
)
from stream_app.dedup import Deduplicator
from stream_app.errors import raise_if_platform
from stream_app.lag import lane_of
from stream_app.metrics import WorkerMetrics
from stream_app.outputs import Output
from stream_app.router import HandlerContext, Router
from stream_app.sink import OutputSink
from stream_app.source import Source

log = structlog.get_logger("stream_app.pipeline")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing handler is tried, and how long to wait between tries."""

    max_attempts: int = 3
    backoff_seconds: float = 0.2
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delay(self, attempt: int) -> float:
        """Return the wait after the given failed attempt (exponential)."""
        return float(self.backoff_seconds * 2 ** (attempt - 1))


@dataclass
class Pipeline:
    """Verifies, parses, deduplicates, routes and handles records; failures become dead letters."""

    router: Router
    sink: OutputSink
    send_dead_letter: DeadLetterSend
    metrics: WorkerMetrics
    secrets: tuple[bytes, ...] | None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], float] = time.time
    _unknown_logged: set[str] = field(default_factory=set)
    _verifier: Verifier | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        """Key the signature check once, if the worker re-verifies signatures."""
        if self.secrets is not None:
            self._verifier = Verifier(self.secrets)

    async def handle(self, source: Source, dedup: Deduplicator) -> None:
        """Process one record; dead-letter the record's own failures, raise the platform's."""
        started = time.perf_counter()
        try:
            await self.process(source, dedup)
        except Exception as exc:
            raise_if_platform(exc)  # the record is kept: the worker stops before committing it
            log.exception("pipeline.unexpected_error", offset=source.offset)
            await self.dead_letter(source, "handler", "unexpected error in the pipeline", exc, 1)
        self.metrics.finished(source, lane_of(source), time.perf_counter() - started)

    async def process(self, source: Source, dedup: Deduplicator) -> None:
        """Verify, parse, deduplicate, handle and publish one record."""
        dedup.settle()
        try:
            notification = self.parse(source)
        except SignatureError as exc:
            await self.dead_letter(source, "verify", "signature does not verify", exc, 1)
            return
        except ValidationError as exc:
            await self.dead_letter(source, "parse", "not an Intercom notification envelope", exc, 1)
            return
        if self.is_duplicate(notification, source, dedup):
            return
        try:
            outputs = await self.run_handlers(notification, source)
        except AttemptsExhaustedError as failed:
            reason = f"handler failed for {notification.topic}"
            await self.dead_letter(source, "handler", reason, failed.error, failed.attempts)
            return
        acks = await self.sink.publish(outputs)
        if notification.id:
            dedup.track(notification.id, acks)

    def parse(self, source: Source) -> Notification:
        """Re-verify the signature (when configured) and parse the envelope."""
        if self._verifier is not None:
            signature = source.header(headers.SIGNATURE)
            values = [signature.decode(errors="replace")] if signature is not None else []
            self._verifier.verify(values, source.value)
        return Notification.from_json(source.value)

    def is_duplicate(self, notification: Notification, source: Source, dedup: Deduplicator) -> bool:
        """Whether the notification was already handled (replays bypass the check on purpose)."""
        if notification.id is None or source.header(headers.REPLAY) == b"true":
            return False
        if dedup.seen(notification.id):
            m = self.metrics
            m.child(m.duplicates, canonical_topic(notification.topic), "live").inc()
            return True
        return False

    async def run_handlers(self, notification: Notification, source: Source) -> list[Output]:
        """Run the topic's handlers, retrying what is retriable; raise AttemptsExhaustedError."""
        topic = canonical_topic(notification.topic)
        handlers = self.router.lookup(topic)
        if not handlers:
            self.count_unknown(topic)
            return []
        ctx = HandlerContext(topic, source.key, source.partition, source.offset)
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                outputs = [out for handler in handlers for out in await handler(notification, ctx)]
            except Exception as exc:
                raise_if_platform(exc)
                if attempt == self.retry.max_attempts or not is_retriable(exc):
                    raise AttemptsExhaustedError(exc, attempt) from exc
                self.metrics.child(self.metrics.retries, topic, lane_of(source)).inc()
                await self.retry.sleep(self.retry.delay(attempt))
            else:
                self.metrics.child(self.metrics.handled, topic, lane_of(source)).inc()
                log.debug("notification.handled", topic=topic, notification_id=notification.id)
                return outputs
        raise AssertionError("unreachable: the last attempt returns or raises")

    def count_unknown(self, topic: str) -> None:
        """Count a notification without handlers; log each such topic once."""
        self.metrics.child(self.metrics.unhandled, topic).inc()
        if topic not in self._unknown_logged:
            self._unknown_logged.add(topic)
            log.info("topic.unhandled", topic=topic)

    async def dead_letter(
        self, source: Source, stage: Stage, reason: str, exc: BaseException, attempts: int
    ) -> None:
        """Write the record to the dead-letter topic (waiting for the ack) and count it."""
        letter = dead_letter(source, stage, reason, exc, attempts, int(self.clock() * 1000))
        await write_dead_letter(self.send_dead_letter, letter, dead_letter_headers(letter, exc))
        self.metrics.child(self.metrics.dead_lettered, stage, lane_of(source)).inc()
        notification_id = (source.header(headers.NOTIFICATION_ID) or b"").decode(errors="replace")
        log.warning(
            "record.dead_lettered",
            stage=stage,
            reason=reason,
            offset=source.offset,
            notification_id=notification_id or None,
        )
