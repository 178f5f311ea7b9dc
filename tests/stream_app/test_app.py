"""The notification actor (the agent's body) fed with plain events, without faust."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from stream_app import app
from stream_app.app import NotificationActor
from stream_app.continuity import Continuity
from stream_app.source import Source


class Reader:
    """Says every partition resumes at offset 0 and has nothing to read again."""

    async def start_offset(self, topic: str, partition: int) -> int:
        """Resume at 0."""
        return 0

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Source]:
        """Nothing was skipped."""
        return []


class Steps:
    """Records what the actor did, in order: gate, handle, flush."""

    def __init__(self, failing: set[int] | None = None) -> None:
        """Fail handling the offsets in `failing`."""
        self.done: list[str] = []
        self.failing = failing or set()

    async def wait(self) -> None:
        """The gate: always open."""
        self.done.append("gate")

    async def handle(self, source: Source, dedup: Any) -> None:
        """The pipeline's handle."""
        if source.offset in self.failing:
            raise ConnectionError(f"kafka lost at {source.offset}")
        self.done.append(f"handle {source.offset}")

    async def flush(self) -> list[Any]:
        """The changelog flush."""
        self.done.append("flush")
        return []


async def events(count: int) -> AsyncIterator[Any]:
    """Yield faust-shaped events of partition 0 at offsets 0..count-1."""
    for offset in range(count):
        message = SimpleNamespace(
            topic="n", partition=0, offset=offset, key=b"k", value=b"{}", headers=[], timestamp=1
        )
        yield SimpleNamespace(message=message)


def actor(steps: Steps) -> NotificationActor:
    """Return an actor whose pipeline, gate and flush are the steps recorder."""
    pipeline: Any = steps
    dedup: Any = None  # the steps recorder stands in for the pipeline, which uses it
    return NotificationActor(pipeline, dedup, Continuity(Reader()), steps, steps.flush)


async def test_each_record_is_gated_handled_then_its_changes_flushed() -> None:
    """Records are handled in order, each followed by its flush before the next one."""
    steps = Steps()
    await actor(steps).run(events(2))
    assert steps.done == ["gate", "handle 0", "flush", "gate", "handle 1", "flush"]


async def test_an_escaping_error_stops_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error the pipeline raises (the platform's) stops consuming, with no flush after it."""
    stops: list[str] = []
    monkeypatch.setattr(app, "stop_consuming", lambda exc: stops.append(repr(exc)))
    steps = Steps(failing={1})
    await actor(steps).run(events(2))
    assert stops == ["ConnectionError('kafka lost at 1')"]
    assert steps.done == ["gate", "handle 0", "flush", "gate"]
