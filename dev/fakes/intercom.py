"""A fake Intercom REST API on loopback: real status codes, error bodies and rate limits.

Windows are aligned to wall-clock 10-second boundaries of the injected clock; every
authenticated request counts against its window and every authenticated answer carries
X-RateLimit-Limit/Remaining/Reset. Calls are recorded with the `X-Command-Id` header the writer
sends, so tests count deliveries per command id. Faults are set on `fake.faults`.

Standalone: `python -m dev.fakes.intercom --port 8099 --limit 600`; `GET /_fake/calls` returns
the record of every call as JSON, `GET /_fake/stats` a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from aiohttp import web

from dev.fakes.intercom_routes import Resources
from stream_app.writer.client import COMMAND_ID_HTTP_HEADER

WINDOW_SECONDS = 10
DEFAULT_TOKEN = "fake-intercom-token"


@dataclass
class Faults:
    """Misbehaviour to inject; counters are consumed one per authenticated call."""

    latency: float = 0.0
    server_errors: int = 0
    rate_limit_storm: int = 0
    unauthorized: bool = False
    unknown_users: set[str] = field(default_factory=set)
    throttled_until: float = 0.0  # every call before this clock time answers 429 (reset = it)


@dataclass(frozen=True)
class Call:
    """One request the fake received and how it answered."""

    at: float
    window: int
    path: str
    command_id: str | None
    status: int
    body: dict[str, Any]
    event: tuple[str, int, str] | None = None  # (event_name, created_at, contact) of the body
    reset: int | None = None  # the X-RateLimit-Reset answered with a 429


def error_list(code: str, message: str) -> dict[str, Any]:
    """Return an Intercom error body with a fresh request id."""
    return {
        "type": "error.list",
        "request_id": f"req-{uuid.uuid4().hex[:12]}",
        "errors": [{"code": code, "message": message}],
    }


class FakeIntercom:
    """The fake API; `app` is the aiohttp application, `calls` the record of every request."""

    def __init__(
        self,
        limit: int = 600,
        token: str = DEFAULT_TOKEN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Answer with this per-window limit, accept this bearer token, read time from clock."""
        self.limit = limit
        self.token = token
        self.clock = clock
        self.faults = Faults()
        self.calls: list[Call] = []
        self._counts: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.url = ""
        self.app = web.Application()
        self.app.router.add_post("/events", self._events)
        self.app.router.add_get("/_fake/calls", self._calls_page)
        self.app.router.add_get("/_fake/stats", self._stats_page)
        self.resources = Resources(clock)  # every other endpoint: tests/fakes/intercom_routes.py
        self.app.router.add_route("*", "/{path:.*}", self._events)

    def accepted(self) -> Counter[str]:
        """Return how often each command id was accepted (202)."""
        return Counter(c.command_id for c in self.calls if c.status == 202 and c.command_id)

    def statuses(self) -> Counter[int]:
        """Return how often each status was answered."""
        return Counter(c.status for c in self.calls)

    def per_window(self) -> dict[int, int]:
        """Return the authenticated calls counted in each window."""
        return dict(sorted(self._counts.items()))

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on loopback and return the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._site = site
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def refuse_connections(self) -> None:
        """Stop listening and close every connection once its request (if any) is answered."""
        assert self._runner is not None, "the fake is not started"
        assert self._site is not None, "the fake is refusing already"
        await self._site.stop()
        server = self._runner.server
        if server is not None:
            for handler in list(server.connections):
                handler.close()  # an answer already being made still goes out, then it closes
        self._site = None

    async def accept_connections(self) -> None:
        """Listen again on the same address after refuse_connections()."""
        assert self._runner is not None, "the fake is not started"
        assert self._site is None, "the fake is not refusing"
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self._site = web.TCPSite(self._runner, host, int(port), reuse_address=True)
        await self._site.start()

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _rate_headers(self, window: int) -> dict[str, str]:
        """Return the X-RateLimit-* headers for the window."""
        remaining = max(0, self.limit - self._counts[window])
        reset = (window + 1) * WINDOW_SECONDS
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }

    async def _events(self, request: web.Request) -> web.Response:
        """Answer `POST /events` as Intercom would, recording the call."""
        raw = await request.read()
        now = self.clock()
        window = math.floor(now / WINDOW_SECONDS)
        status, body, headers = await self._answer(request, raw, window)
        reset = int(headers["X-RateLimit-Reset"]) if status == 429 else None
        command_id = request.headers.get(COMMAND_ID_HTTP_HEADER)
        self.calls.append(
            Call(now, window, request.path, command_id, status, body, event_key(raw), reset)
        )
        text = orjson.dumps(body).decode() if body else ""
        return web.Response(
            status=status, text=text, headers=headers, content_type="application/json"
        )

    async def _answer(
        self, request: web.Request, raw: bytes, window: int
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Return status, body and headers, applying auth, limits and faults in Intercom's order."""
        if (
            self.faults.unauthorized
            or request.headers.get("Authorization") != f"Bearer {self.token}"
        ):
            return 401, error_list("unauthorized", "Access Token Invalid"), {}
        self._counts[window] += 1
        headers = self._rate_headers(window)
        if self._counts[window] > self.limit:
            message = f"Exceeded rate limit of {self.limit} in 10_seconds"
            return 429, error_list("rate_limit_exceeded", message), headers
        if self.faults.throttled_until > self.clock():
            headers["X-RateLimit-Reset"] = str(math.ceil(self.faults.throttled_until))
            return 429, error_list("rate_limit_exceeded", "Rate limit exceeded"), headers
        if self.faults.rate_limit_storm > 0:
            self.faults.rate_limit_storm -= 1
            return 429, error_list("rate_limit_exceeded", "Rate limit exceeded"), headers
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self.faults.server_errors > 0:
            self.faults.server_errors -= 1
            return 500, error_list("server_error", "Server Error"), headers
        return (*self._outcome(request, raw), headers)

    def _outcome(self, request: web.Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Answer a data event here, and every other endpoint from the resources."""
        if request.path == "/events":
            return self._event_outcome(raw)
        command_id = request.headers.get(COMMAND_ID_HTTP_HEADER)
        return self.resources.answer(request.method, request.path, request.query, raw, command_id)

    def _event_outcome(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Validate a data event body like Intercom: 400 invalid, 404 unknown user, else 202."""
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return 400, error_list("parameter_invalid", "Invalid JSON")
        if not isinstance(event, dict) or not event.get("event_name"):
            return 400, error_list("parameter_invalid", "event_name is required")
        if not isinstance(event.get("created_at"), int):
            return 400, error_list("parameter_invalid", "created_at must be an integer")
        who = event.get("user_id") or event.get("id") or event.get("email")
        if who is None:
            return 400, error_list("parameter_invalid", "user_id, id or email is required")
        if who in self.faults.unknown_users:
            return 404, error_list("not_found", "User Not Found")
        return 202, {}

    async def _calls_page(self, request: web.Request) -> web.Response:
        """Return every recorded call as JSON (for the benchmark)."""
        return web.json_response(
            [asdict(c) for c in self.calls], dumps=lambda v: orjson.dumps(v).decode()
        )

    async def _stats_page(self, request: web.Request) -> web.Response:
        """Return the counts of calls by status and of accepted command ids."""
        accepted = self.accepted()
        return web.json_response(
            {
                "calls": len(self.calls),
                "statuses": {str(k): v for k, v in self.statuses().items()},
                "accepted_ids": len(accepted),
                "accepted_twice": sum(1 for n in accepted.values() if n > 1),
            }
        )


def event_key(raw: bytes) -> tuple[str, int, str] | None:
    """Return what Intercom deduplicates a data event on (name, created_at, contact), if any."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict):
        return None
    who = event.get("user_id") or event.get("id") or event.get("email")
    created = event.get("created_at")
    return (str(event.get("event_name")), created if isinstance(created, int) else 0, str(who))


async def serve_forever(port: int, limit: int, token: str) -> None:
    """Run the fake until interrupted."""
    fake = FakeIntercom(limit=limit, token=token)
    url = await fake.start(port)
    print(f"fake Intercom on {url} (limit {limit} per {WINDOW_SECONDS} s)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.port, args.limit, args.token))


if __name__ == "__main__":
    main()
