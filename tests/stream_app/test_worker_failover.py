"""A worker killed mid-stream, and a rebalance between two workers: every effect exactly once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from intercom_stream.settings import Settings
from tests.stream_app.worker_harness import (
    Record,
    commands_until,
    effect_body,
    publish,
    signed,
    start_worker,
    worker_settings,
)

pytestmark = pytest.mark.integration
COUNT = 3000


async def publish_slow_notifications(settings: Settings) -> set[str]:
    """Publish COUNT notifications over 300 resources; return the command ids they must produce."""
    ids = [f"notif_{n}" for n in range(COUNT)]
    await publish(
        settings, [signed_slow(notification_id, n) for n, notification_id in enumerate(ids)]
    )
    return {f"effect-{notification_id}" for notification_id in ids}


def signed_slow(notification_id: str, n: int) -> Record:
    """Return a signed test.slow notification for resource n % 300."""
    return signed(effect_body(notification_id, f"res-{n % 300}", "test.slow"))


async def test_kill_9_mid_stream_then_restart_has_every_effect_once(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL while processing; after a restart every command id exists, and no other."""
    expected = await publish_slow_notifications(kafka_settings)
    settings = worker_settings(kafka_settings, tmp_path, "w")
    worker = await start_worker(settings, tmp_path, "w")
    try:
        seen = await commands_until(kafka_settings, lambda ids: len(ids) >= COUNT // 10)
        worker.kill(signal.SIGKILL)
        assert len(set(seen)) < COUNT, "the worker finished before it was killed"
        worker = await start_worker(settings, tmp_path, "w-restarted")
        ids = await commands_until(kafka_settings, lambda ids: set(ids) >= expected, timeout=120)
    finally:
        worker.kill()
    assert set(ids) == expected
    duplicates = len(ids) - len(set(ids))
    print(f"commands after kill -9: {len(ids)} records, {duplicates} redelivered by command id")


async def test_rebalance_between_two_workers_has_every_effect_once(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """A second worker joins mid-stream, then the first leaves; every command id exists once."""
    expected = await publish_slow_notifications(kafka_settings)
    first = await start_worker(worker_settings(kafka_settings, tmp_path, "a"), tmp_path, "a")
    second = None
    try:
        await commands_until(kafka_settings, lambda ids: len(ids) >= COUNT // 10)
        second = await start_worker(worker_settings(kafka_settings, tmp_path, "b"), tmp_path, "b")
        seen = await commands_until(kafka_settings, lambda ids: len(ids) >= COUNT // 3)
        first.kill(signal.SIGTERM)
        assert len(set(seen)) < COUNT, "the stream ended before the rebalance"
        ids = await commands_until(kafka_settings, lambda ids: set(ids) >= expected, timeout=120)
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert set(ids) == expected
