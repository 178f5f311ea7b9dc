"""Runs commands' recipes over real HTTP against the fake Intercom, without Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from pydantic import SecretStr

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from schemas.commands import AnyCommand, parse_command
from stream_app.writer.cache import Caches, ContactCache
from stream_app.writer.client import Connection, IntercomClient
from stream_app.writer.executor import Executor
from stream_app.writer.limiter import RateLimiter
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.sender import Backoff, Sender
from tests.fakes.clock import FakeClock
from tests.schemas.command_examples import example
from tests.stream_app.writer.conftest import make_health


def command(kind: str, command_id: str | None = None, **fields: Any) -> AnyCommand:
    """Return the kind's example command with fields overridden."""
    return parse_command(orjson.dumps(example(kind, command_id, **fields)))


class Harness:
    """An executor whose contact cache and progress are plain dicts the test can read."""

    def __init__(self, executor: Executor, fake: FakeIntercom, table: dict[str, Any]) -> None:
        """Keep the parts."""
        self.executor = executor
        self.fake = fake
        self.table = table
        self.progress: dict[str, Any] = {}

    async def run(self, command: AnyCommand, force: bool = False) -> int:
        """Execute the command; return its attempts."""
        return await self.executor.run(command, force)

    def calls(self) -> list[tuple[str, str]]:
        """Return (method, path) of every call the fake answered (data events aside)."""
        return self.fake.resources.calls()

    def bodies(self) -> list[dict[str, Any]]:
        """Return the JSON body of every call."""
        return [r.body for r in self.fake.resources.requests]


@asynccontextmanager
async def harness(fake: FakeIntercom, caches: Caches | None = None) -> AsyncIterator[Harness]:
    """Yield a harness calling the fake with short retries."""
    clock = FakeClock()
    connection = Connection(fake.url, SecretStr(DEFAULT_TOKEN), "2.14", 2.0, 5.0)
    async with IntercomClient(connection) as client:
        backoff = Backoff(max_attempts=2, cap=0.01, base=0.001)
        sender = Sender(client, RateLimiter(600), make_health(clock), backoff, WriterMetrics())
        table: dict[str, Any] = {}
        caches = caches or Caches(contacts=ContactCache(table))
        progress: dict[str, Any] = {}
        built = Harness(Executor(sender, caches, progress), fake, table)
        built.progress = progress
        yield built
