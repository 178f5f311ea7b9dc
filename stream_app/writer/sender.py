"""Delivers one command to Intercom: paced, retried by the error's class, halted on 401/403."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from schemas.commands import CreateDataEvent
from stream_app.writer.client import Accepted
from stream_app.writer.errors import (
    IntercomResponseError,
    RateLimitedError,
    WriterError,
)
from stream_app.writer.gate import AuthGate
from stream_app.writer.limiter import RateLimiter, Sleep
from stream_app.writer.metrics import WriterMetrics

log = structlog.get_logger("stream_app.writer.sender")
BACKOFF_BASE_SECONDS = 0.5


class Caller(Protocol):
    """What the sender needs from the HTTP client."""

    async def call(
        self, method: str, path: str, body: dict[str, Any], command_id: str
    ) -> Accepted: ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter, capped, over a bounded number of attempts."""

    max_attempts: int
    cap: float
    base: float = BACKOFF_BASE_SECONDS
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        """Return the pause after the given failed attempt (1-based)."""
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self.jitter()


class DeliveryFailedError(Exception):
    """A command cannot be delivered; `error` says why, `attempts` how often it was tried."""

    def __init__(self, error: WriterError, attempts: int) -> None:
        """Keep the last error and the attempt count."""
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


class Sender:
    """Sends commands within the rate limit, retrying what the error class allows."""

    def __init__(
        self,
        caller: Caller,
        limiter: RateLimiter,
        gate: AuthGate,
        backoff: Backoff,
        metrics: WriterMetrics,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Keep the collaborators; nothing is sent until deliver()."""
        self._caller = caller
        self._limiter = limiter
        self._gate = gate
        self._backoff = backoff
        self._metrics = metrics
        self._sleep = sleep

    async def deliver(self, command: CreateDataEvent) -> int:
        """Send the command until accepted and return the attempts; raise DeliveryFailedError."""
        attempts, probing = 0, False
        while True:
            if not probing:
                await self._gate.wait_open()
            attempts += 1
            try:
                await self._call(command)
            except WriterError as exc:
                probing = await self._after_failure(command, exc, attempts, probing)
                if isinstance(exc, RateLimitedError) or exc.halts_sending:
                    attempts -= 1  # the command is not at fault: only its own failures count
                continue
            self._gate.reopen()
            return attempts

    async def _call(self, command: CreateDataEvent) -> None:
        """Make one paced call and feed its rate headers back to the limiter."""
        await self._limiter.acquire()
        method, path, body = command.request()
        try:
            accepted = await self._caller.call(method, path, body, command.command_id)
        except WriterError as exc:
            self._limiter.observe(exc.rate if isinstance(exc, IntercomResponseError) else None)
            self._metrics.calls.labels(type(exc).__name__).inc()
            raise
        self._limiter.observe(accepted.rate)
        self._metrics.calls.labels("accepted").inc()
        if accepted.rate.remaining is not None:
            self._metrics.remaining.set(accepted.rate.remaining)

    async def _after_failure(
        self, command: CreateDataEvent, exc: WriterError, attempts: int, probing: bool
    ) -> bool:
        """Wait as the error's class demands, or raise DeliveryFailedError; return `probing`."""
        if exc.halts_sending:
            probing = self._gate.close(str(exc)) or probing
            if probing:
                await self._sleep(self._backoff.cap)
            return probing
        if isinstance(exc, RateLimitedError):
            pause = self._limiter.block_until(exc.retry_after)
            log.warning("intercom.rate_limited", command_id=command.command_id, pause=pause)
            return probing
        if not exc.retriable or attempts >= self._backoff.max_attempts:
            raise DeliveryFailedError(exc, attempts) from exc
        delay = self._backoff.delay(attempts)
        log.info("intercom.retry", command_id=command.command_id, attempt=attempts, delay=delay)
        await self._sleep(delay)
        return probing
