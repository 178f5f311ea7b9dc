"""aiokafka's metadata task, restarted when an update fails instead of ending for good.

Each aiokafka client refreshes the cluster's metadata in one background task
(`AIOKafkaClient._md_synchronizer`), and every caller of `force_metadata_update` waits for the
future that task resolves. The task handles no exception: when one update raises, it ends,
nothing logs it (the client keeps a reference to the task), and every later caller waits
forever. The group coordinator's lookup waits there while holding its lookup lock, so after a
broker restart a consumer could fetch records but never find its coordinator again: no
heartbeat, no commit, the group's lag frozen (the broker-kill reliability scenario).

`guard_metadata_sync` wraps the task: a failed update is logged, its waiters are told "not
updated" (as after any failed update, so they retry), and the task starts again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiokafka.client import AIOKafkaClient

from stream_app.faust.patch import wrap_once

log = structlog.get_logger("stream_app.faust.metadata")


def release_waiters(client: Any) -> None:
    """Resolve the pending metadata update as failed, so that its waiters retry."""
    pending, client._md_update_fut = client._md_update_fut, None
    if pending is not None and not pending.done():
        pending.set_result(False)


def guarded(synchronize: Any) -> Any:
    """Return the metadata task's coroutine function, restarted after any failed update."""

    async def _md_synchronizer(self: Any) -> None:
        while True:
            try:
                await synchronize(self)
            except Exception as exc:
                log.exception("kafka.metadata_task_failed", error=repr(exc))
                release_waiters(self)
                await asyncio.sleep(self._retry_backoff)

    return _md_synchronizer


def guard_metadata_sync() -> None:
    """Make every aiokafka client restart its metadata task after a failed update (idempotent)."""
    wrap_once(AIOKafkaClient, "_md_synchronizer", guarded)
