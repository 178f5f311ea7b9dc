"""Factories shared by the writer's tests: commands, health, the fake clock, the fake Intercom."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.fakes.intercom_routes import running_fake
from dev.support.processes import Process, free_port
from intercom_stream.settings import Settings
from schemas.commands import CreateDataEvent
from stream_app.writer.breaker import BreakerPolicy, OutcomeWindow
from stream_app.writer.health import Health, HealthPolicy
from tests.fakes.clock import FakeClock

_ids = itertools.count(1)


def make_command(contact: str = "u-1", **overrides: Any) -> CreateDataEvent:
    """Return a valid data-event command for the contact (user_id)."""
    event = {"event_name": "placed-order", "created_at": 1_763_700_000, "user_id": contact}
    event.update(overrides.pop("event", {}))
    values: dict[str, Any] = {
        "command_id": f"cmd-{next(_ids)}",
        "source": "tests",
        "issued_at_ms": 1_763_700_000_000,
        "event": event,
    }
    values.update(overrides)
    return CreateDataEvent.model_validate(values)


def make_health(
    clock: FakeClock,
    failures: int = 5,
    cap: float = 4.0,
    horizon: float = 3600.0,
    on_change: Callable[[Health], None] = lambda health: None,
) -> Health:
    """Return a healthy writer health on the fake clock: probes every 1, 2, 4, 4... seconds."""
    window = OutcomeWindow(BreakerPolicy(failures=failures, window=30.0, ratio=0.8), clock)
    policy = HealthPolicy(probe_first=1.0, probe_cap=cap, horizon=horizon)
    return Health(window, policy, clock, clock.sleep, on_change)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    """The fake Intercom on loopback (600 calls per window), in the test's own loop."""
    async with running_fake(limit=600) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock for limiter and retry tests."""
    return FakeClock()


@pytest.fixture
def command_factory() -> Callable[..., CreateDataEvent]:
    """Build valid commands."""
    return make_command


@pytest.fixture
def writer_settings(kafka_settings: Settings, fake: FakeIntercom) -> Settings:
    """This test's topics, the fake's URL and token, and short retries."""
    return kafka_settings.model_copy(
        update={
            "intercom_api_url": fake.url,
            "intercom_access_token": DEFAULT_TOKEN,
            "writer_web_port": free_port(),
            "writer_calls_per_window": 600,
            "writer_max_attempts": 3,
            "writer_backoff_cap_seconds": 0.4,
        }
    )


@pytest.fixture
async def worker(writer_settings: Settings, tmp_path: Path) -> AsyncIterator[Process]:
    """A running worker process whose web server answers."""
    process = Process("writer", writer_settings, tmp_path / "worker.log").start()
    try:
        await process.wait_http(writer_settings.writer_web_port, "/writer/health")
        yield process
    finally:
        process.kill()
