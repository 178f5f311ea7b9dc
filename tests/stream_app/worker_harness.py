"""Builds signed notification records and runs real worker processes for integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from dev.support.processes import Process, free_port
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from schemas import Notification, headers
from tests.conftest import TEST_SECRET
from tests.support.kafka import collect_until, produce

Record = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


def signed(body: bytes, replay: bool = False, key: bytes | None = None) -> Record:
    """Return the record the ingress would write for this body (key, value, headers)."""
    key = key or Notification.model_validate_json(body).partition_key().encode()
    record_headers = [(headers.SIGNATURE, sign(body, TEST_SECRET.encode()).encode())]
    if replay:
        record_headers.append((headers.REPLAY, b"true"))
    return key, body, record_headers


def effect_body(notification_id: str, item_id: str, topic: str = "test.effect") -> bytes:
    """Return a notification on a test topic whose handler emits one command."""
    item = {"type": "conversation", "id": item_id, "updated_at": 1}
    return samples.notification_bytes(topic=topic, item=item, notification_id=notification_id)


def worker_settings(settings: Settings, tmp_path: Path, name: str) -> Settings:
    """Return settings for one worker process with its own web port and data directory."""
    return settings.model_copy(
        update={
            "worker_web_port": free_port(),
            "worker_datadir": str(tmp_path / name),
            "worker_store": "rocksdb://",
            "handler_plugins": "tests.stream_app.plugins:register",
            "handler_backoff_seconds": 0.05,
            "worker_session_timeout_seconds": 6.0,
        }
    )


async def start_worker(settings: Settings, tmp_path: Path, name: str) -> Process:
    """Start a worker process and wait until its web server answers."""
    worker = Process("worker", settings, tmp_path / f"{name}.log").start()
    await worker.wait_http(settings.worker_web_port, "/metrics")
    return worker


@asynccontextmanager
async def running_worker(settings: Settings, tmp_path: Path, name: str) -> AsyncIterator[Process]:
    """Run one worker for the duration of the block, killing it afterwards."""
    worker = await start_worker(worker_settings(settings, tmp_path, name), tmp_path, name)
    try:
        yield worker
    finally:
        worker.kill()


async def publish(settings: Settings, records: list[Record]) -> None:
    """Write records to the notifications topic."""
    await produce(settings.kafka_bootstrap_servers, settings.topic_notifications, records)


def command_ids(records: list[Any]) -> list[str]:
    """Return the command ids of command records, in order, duplicates included."""
    return [orjson.loads(record.value)["command_id"] for record in records]


async def commands_until(
    settings: Settings, done: Callable[[list[str]], bool], timeout: float = 60.0
) -> list[str]:
    """Read command ids from the command topic until `done(ids)` holds."""
    records = await collect_until(
        settings.kafka_bootstrap_servers,
        settings.topic_commands,
        lambda recs: done(command_ids(recs)),
        timeout,
        "commands",
    )
    return command_ids(records)


async def get_json(port: int, path: str) -> tuple[int, Any]:
    """GET a worker page and return status and JSON body."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.json()
