"""aiokafka's metadata task restarted after a failed update (stream_app.faust.metadata)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import Any

import pytest
from aiokafka.client import AIOKafkaClient

from stream_app.faust import metadata

WAIT = 5.0  # seconds; each wait below ends in milliseconds unless the task is dead


class FailingOnce:
    """A metadata update that raises an unexpected error once, then succeeds."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, cluster: Any, topics: Any) -> bool:
        """Raise on the first call; report "updated" on every later one."""
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("an update aiokafka did not expect to fail")
        return True


def unguarded() -> Any:
    """Return aiokafka's own metadata task function, whether or not it is guarded now."""
    current = AIOKafkaClient._md_synchronizer
    return getattr(current, "original", current)


def client() -> Any:
    """Return a client that is never bootstrapped, its metadata update failing once."""
    kafka: Any = AIOKafkaClient(bootstrap_servers="127.0.0.1:9")
    kafka._metadata_update = FailingOnce()
    kafka._retry_backoff = 0.0
    return kafka


async def stopped(task: asyncio.Task[Any]) -> None:
    """Cancel the task and wait for it to end."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_aiokafka_s_metadata_task_ends_on_an_unexpected_error_and_strands_its_waiters() -> (
    None
):
    """The assumption behind the guard: without it, the task dies and the waiter never ends."""
    kafka = client()
    task = asyncio.create_task(unguarded()(kafka))
    waiter = kafka.force_metadata_update()
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(task, WAIT)
    assert not waiter.done()
    waiter.cancel()


async def test_the_guarded_task_fails_the_waiters_of_a_failed_update_and_goes_on() -> None:
    """The failed update's waiter hears "not updated"; the next update succeeds."""
    kafka = client()
    task = asyncio.create_task(metadata.guarded(unguarded())(kafka))
    assert await asyncio.wait_for(kafka.force_metadata_update(), WAIT) is False
    assert await asyncio.wait_for(kafka.force_metadata_update(), WAIT) is True
    assert not task.done()
    assert kafka._metadata_update.calls == 2
    await stopped(task)


def test_the_guard_is_installed_on_aiokafka_s_client_class() -> None:
    """guard_metadata_sync replaces the method bootstrap starts the task from (next test)."""
    metadata.guard_metadata_sync()
    assert getattr(AIOKafkaClient._md_synchronizer, "wrapped", False)


def test_aiokafka_starts_the_metadata_task_through_the_method() -> None:
    """bootstrap creates the task from `self._md_synchronizer()`, so the class attribute counts."""
    assert "create_task(self._md_synchronizer())" in inspect.getsource(AIOKafkaClient.bootstrap)
