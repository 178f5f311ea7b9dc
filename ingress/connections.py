"""Guards the low-level server against slow and excess clients: a read deadline and a cap.

aiohttp closes idle keep-alive connections itself (`keepalive_timeout`), but it sets no deadline
on reading a request: a client trickling header lines or a body holds its connection for ever.
`GuardedServer` (aiohttp's `web.Server`) makes a `GuardedHandler` protocol per connection, which

- refuses a connection beyond `max_connections` with a JSON 503 (`Retry-After`), closed at once;
- gives every request `read_timeout` to arrive whole, counted from the connection's start for
  its first request and from the first bytes of each later one. Late headers: a JSON 408 and
  the connection closed. Late body: its payload fails with `ReadTimeoutError`, which the endpoint
  reading it answers with a JSON 408; aiohttp's lingering read stops on it and closes.

A request whose headers and body arrive in one read (the usual webhook) costs no timer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

import structlog
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from ingress.answers import raw_error
from ingress.errors import ReadTimeoutError
from ingress.metrics import Metrics

log = structlog.get_logger("ingress.connections")
REFUSAL_LOG_SECONDS = 1.0  # refusals come in floods: one log line a second at most, with a count
LowLevelHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Limits:
    """How long a request may take to arrive, and how many connections may be open at once."""

    read_timeout: float
    max_connections: int


class GuardedServer(web.Server):
    """aiohttp's low-level server whose connections are `GuardedHandler`s, counted as they open."""

    def __init__(
        self, handler: LowLevelHandler, limits: Limits, metrics: Metrics, **kwargs: Any
    ) -> None:
        """Serve with aiohttp's keyword arguments (keepalive_timeout, access_log, ...)."""
        super().__init__(handler, **kwargs)
        self.limits, self.metrics = limits, metrics
        self.open = 0
        self._refused, self._next_refusal_log = 0, 0.0

    def __call__(self) -> RequestHandler:
        """Return the protocol of one new connection."""
        return GuardedHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        """Count a connection that is served."""
        self.open += 1
        super().connection_made(handler, transport)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        """Count a served connection that closed."""
        self.open -= 1
        super().connection_lost(handler, exc)

    def refuse(self, transport: asyncio.Transport) -> None:
        """Answer a connection beyond the cap with a 503 and close it without reading."""
        self._count_refusal()
        limit = self.limits.max_connections
        retry = ("Retry-After", str(math.ceil(self.limits.read_timeout)))
        transport.write(raw_error(
            HTTPStatus.SERVICE_UNAVAILABLE, "too_many_connections",
            f"more than {limit} connections open, try again later", retry,
        ))  # fmt: skip
        transport.close()

    def _count_refusal(self) -> None:
        """Count a refusal; log the refusals at most once every REFUSAL_LOG_SECONDS."""
        self.metrics.connections_rejected.inc()
        self._refused += 1
        now = self._loop.time()
        if now >= self._next_refusal_log:
            limit = self.limits.max_connections
            log.warning("connection.refused", refused=self._refused, open=self.open, limit=limit)
            self._refused, self._next_refusal_log = 0, now + REFUSAL_LOG_SECONDS

    def timed_out(self, stage: str, peer: object) -> None:
        """Count and log a request that did not arrive within the read timeout."""
        # At most max_connections / read_timeout a second can time out: each one is logged.
        self.metrics.connections_timed_out.inc(stage)
        log.info("connection.read_timeout", stage=stage, peer=peer)

    def late_answer(self) -> bytes:
        """Return the 408 answer to a request whose headers did not arrive in time."""
        message = f"the request did not arrive within {self.limits.read_timeout}s"
        return raw_error(HTTPStatus.REQUEST_TIMEOUT, "request_timeout", message)


class GuardedHandler(RequestHandler):
    """aiohttp's protocol of one connection, with a read deadline per request; refused if over."""

    __slots__ = ("_body", "_deadline", "_guard")

    def __init__(self, guard: GuardedServer, **kwargs: Any) -> None:
        """Take aiohttp's keyword arguments; no deadline runs yet."""
        super().__init__(guard, **kwargs)
        self._guard = guard
        self._deadline: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Refuse the connection beyond the cap; else serve it, its first request due in time."""
        if self._guard.open >= self._guard.limits.max_connections:
            self._manager = None  # so connection_lost has nothing to undo
            self._guard.refuse(cast(asyncio.Transport, transport))
            return
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        """Stop the deadline of a connection that closed."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse the data; start the deadline of a request that did not arrive whole."""
        queued, idle = len(self._messages), self._idle()
        super().data_received(data)
        if len(self._messages) > queued:
            self._headers_parsed(self._messages[-1][1])
        elif data and idle and self._deadline is None:
            self._arm()

    def _headers_parsed(self, payload: StreamReader) -> None:
        """Stop the deadline when the body is whole, else keep it running until it is."""
        if payload.is_eof():
            self._disarm()
            return
        self._body = payload
        payload.on_eof(self._disarm)
        if self._deadline is None:
            self._arm()

    def _idle(self) -> bool:
        """Tell whether aiohttp awaits the next request's headers (as its keep-alive check does)."""
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def _arm(self) -> None:
        """Start the read deadline."""
        self._deadline = self._loop.call_later(self._guard.limits.read_timeout, self._overdue)

    def _disarm(self) -> None:
        """Stop the read deadline."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._body = None

    def _overdue(self) -> None:
        """Fail a late body (its endpoint answers 408); answer late headers with 408 and close."""
        self._deadline = None
        body, self._body = self._body, None
        self._guard.timed_out("headers" if body is None else "body", self.peername)
        if body is not None:
            timeout = self._guard.limits.read_timeout
            body.set_exception(ReadTimeoutError(f"the body did not arrive within {timeout}s"))
            return
        if self.transport is not None and self._idle():
            self.transport.write(self._guard.late_answer())
        self.force_close()
