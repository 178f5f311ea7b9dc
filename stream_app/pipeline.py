"""Processes one notification record end to end; never raises except when dead-lettering fails."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from pydantic import ValidationError

from schemas import Notification
from schemas.dead_letter import Stage
from stream_app.dead_letters import Send, dead_letter, write_dead_letter
from stream_app.metrics import WorkerMetrics
from stream_app.router import HandlerContext, Router
from stream_app.source import Source

log = structlog.get_logger("stream_app.pipeline")


class Pipeline:
    """Parses, routes and handles records; failures become dead letters."""

    def __init__(
        self,
        router: Router,
        send_dead_letter: Send,
        metrics: WorkerMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep the router, the dead-letter sender, the metrics and the clock."""
        self._router = router
        self._send_dead_letter = send_dead_letter
        self._metrics = metrics
        self._clock = clock

    async def handle(self, source: Source) -> None:
        """Process one record; any failure is dead-lettered and the partition moves on."""
        try:
            notification = Notification.model_validate_json(source.value)
        except ValidationError as exc:
            await self._dead_letter(source, "parse", "not an Intercom notification envelope", exc)
            return
        try:
            await self._dispatch(notification, source)
        except Exception as exc:  # noqa: BLE001 - a handler may fail in any way; none may escape
            await self._dead_letter(
                source, "handler", f"handler failed for {notification.topic}", exc
            )

    async def _dispatch(self, notification: Notification, source: Source) -> None:
        """Call every handler registered for the notification's topic."""
        handlers = self._router.lookup(notification.topic)
        if not handlers:
            self._metrics.unhandled.labels(notification.topic).inc()
            return
        ctx = HandlerContext(key=source.key, partition=source.partition, offset=source.offset)
        for handler in handlers:
            await handler(notification, ctx)
        self._metrics.handled.labels(notification.topic).inc()

    async def _dead_letter(self, source: Source, stage: Stage, reason: str, exc: Exception) -> None:
        """Write the record to the dead-letter topic and count it."""
        letter = dead_letter(source, stage, reason, exc, 1, int(self._clock() * 1000))
        await write_dead_letter(self._send_dead_letter, letter)
        self._metrics.dead_lettered.labels(stage).inc()
        log.warning("record.dead_lettered", stage=stage, reason=reason, offset=source.offset)
