"""Makes one call to Intercom: paced, retried by the error's class, held while unhealthy."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from intercom_stream.errors import AttemptsExhaustedError
from schemas.commands import CreateDataEvent
from stream_app.writer.client import Accepted
from stream_app.writer.errors import (
    IntercomResponseError,
    OutageOutlastedError,
    RateLimitedError,
    RequestTimeoutError,
    WriterError,
)
from stream_app.writer.health import Health
from stream_app.writer.limiter import Clock, Pacer, Sleep
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.wire import checkpoint, on_the_wire

log = structlog.get_logger("stream_app.writer.sender")
BACKOFF_BASE_SECONDS = 0.5


@dataclass(frozen=True)
class Request:
    """One call to Intercom on behalf of a command; `idempotent` says a repeat is harmless."""

    method: str
    path: str
    body: dict[str, Any]
    command_id: str
    idempotent: bool = True

    @classmethod
    def of(cls, command: CreateDataEvent) -> Request:
        """Return the single call of a data-event command (Intercom deduplicates it)."""
        return cls(*command.request(), command.command_id)


@dataclass(frozen=True)
class Answer:
    """An accepted call: how many attempts it took and Intercom's JSON body."""

    attempts: int
    body: dict[str, Any]


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


@dataclass
class Failures:
    """The failures counted against one command: how many, and since when."""

    count: int = 0
    first: float = 0.0

    def add(self, now: float) -> None:
        """Count one failure."""
        if self.count == 0:
            self.first = now
        self.count += 1


class Sender:
    """Sends commands within the rate limit, retrying what the error class allows."""

    def __init__(
        self,
        caller: Caller,
        limiter: Pacer,
        health: Health,
        backoff: Backoff,
        metrics: WriterMetrics,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
    ) -> None:
        """Keep the collaborators; nothing is sent until deliver()."""
        self._caller = caller
        self._limiter = limiter
        self._health = health
        self._backoff = backoff
        self._metrics = metrics
        self._sleep = sleep
        self._clock = clock

    async def send(self, command: CreateDataEvent) -> int:
        """Send a data-event command until accepted and return the attempts."""
        return (await self.call(Request.of(command))).attempts

    async def call(self, request: Request) -> Answer:
        """Make the call until accepted and return the answer; raise AttemptsExhaustedError."""
        failures = Failures()
        while True:
            outcome = await self._turn(request)
            if isinstance(outcome, Accepted):
                return Answer(failures.count + 1, outcome.body)
            failures = await self._after_failure(request, outcome, failures)

    async def _turn(self, request: Request) -> Accepted | WriterError:
        """Make one call, as the probe while the writer is unhealthy; return answer or error."""
        probe = await self._health.admit()
        try:
            return await self._call(request, probe)
        except WriterError as exc:
            return exc
        finally:
            if probe:
                self._health.end_probe()

    async def _call(self, request: Request, probe: bool) -> Accepted:
        """Make one paced call and feed its outcome to the limiter, the metrics and the health."""
        checkpoint()  # a job dropped at a rebalance makes no further call
        await self._limiter.acquire()
        method, path, body = request.method, request.path, request.body
        try:
            with on_the_wire():  # dropping the job now lets this call finish (wire.py)
                accepted = await self._caller.call(method, path, body, request.command_id)
        except WriterError as exc:
            self._limiter.observe(exc.rate if isinstance(exc, IntercomResponseError) else None)
            self._metrics.calls.labels(type(exc).__name__).inc()
            self._health.observe(exc, probe)
            raise
        except BaseException:  # cancelled mid-call (rebalance): it must not stay outstanding
            self._limiter.observe(None)
            raise
        self._limiter.observe(accepted.rate)
        self._metrics.calls.labels("accepted").inc()
        if accepted.rate.remaining is not None:
            self._metrics.remaining.set(accepted.rate.remaining)
        self._health.observe(None, probe)
        return accepted

    async def _after_failure(
        self, request: Request, exc: WriterError, failures: Failures
    ) -> Failures:
        """Wait as the error demands or raise AttemptsExhaustedError; return the failures."""
        if isinstance(exc, RateLimitedError):
            pause = self._limiter.block_until(exc.retry_after)
            log.warning("intercom.rate_limited", command_id=request.command_id, pause=pause)
            return failures
        if not request.idempotent and isinstance(exc, RequestTimeoutError):
            raise AttemptsExhaustedError(exc, failures.count + 1) from exc  # may have landed
        if self._health.holding():
            return Failures()  # held by the circuit or the auth halt: it starts afresh later
        failures.add(self._clock())
        if not exc.retriable:
            raise AttemptsExhaustedError(exc, failures.count) from exc
        if failures.count >= self._backoff.max_attempts:
            return self._exhausted(request, exc, failures)
        delay = self._backoff.delay(failures.count)
        log.info(
            "intercom.retry", command_id=request.command_id, attempt=failures.count, delay=delay
        )
        await self._sleep(delay)
        return failures

    def _exhausted(self, request: Request, exc: WriterError, failures: Failures) -> Failures:
        """Dead-letter a command failing on its own; open the circuit if nothing else succeeds."""
        if not self._health.blames(failures.first):
            log.warning("intercom.outage_suspected", command_id=request.command_id, error=str(exc))
            self._health.open(exc)
            return Failures()
        if self._health.expired:
            self._metrics.outage_gave_up.inc()
            log.error("intercom.outage_gave_up", command_id=request.command_id, error=str(exc))
            raise OutageOutlastedError(exc, failures.count) from exc
        raise AttemptsExhaustedError(exc, failures.count) from exc
