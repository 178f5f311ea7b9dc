"""The walking skeleton: a signed webhook travels through Kafka to the worker's handler."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from dev.support.processes import Process, free_port
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from tests.conftest import TEST_SECRET
from tests.support.kafka import consume

pytestmark = pytest.mark.integration


async def handled_count(session: aiohttp.ClientSession, port: int, topic: str) -> float:
    """Read the worker's handled counter for one Intercom topic from /metrics."""
    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    match = re.search(
        rf'intercom_stream_notifications_handled_total{{lane="live",topic="{re.escape(topic)}"}}'
        r" (\S+)",
        text,
    )
    return float(match.group(1)) if match else 0.0


async def test_webhook_reaches_the_worker_handler(kafka_settings: Settings, tmp_path: Path) -> None:
    """POST to the ingress process; the worker process handles it; unsigned gets 401."""
    settings = kafka_settings.model_copy(
        update={
            "ingress_port": free_port(),
            "worker_web_port": free_port(),
            "worker_store": "rocksdb://",
        }
    )
    ingress = Process("ingress", settings, tmp_path / "ingress.log").start()
    worker = Process("worker", settings, tmp_path / "worker.log").start()
    try:
        await ingress.wait_http(settings.ingress_port, "/webhooks/intercom")
        await worker.wait_http(settings.worker_web_port, "/metrics")
        body = samples.notification_bytes(topic="conversation.admin.closed")
        url = f"http://127.0.0.1:{settings.ingress_port}/webhooks/intercom"
        async with aiohttp.ClientSession() as session:
            json_type = {"Content-Type": "application/json"}
            signed = {"X-Hub-Signature": sign(body, TEST_SECRET.encode()), **json_type}
            async with session.post(url, data=body, headers=signed) as response:
                assert response.status == 200
            async with session.post(url, data=body, headers=json_type) as response:
                assert response.status == 401
            [record] = await consume(
                settings.kafka_bootstrap_servers, settings.topic_notifications, 1
            )
            assert record.key == b"215470312"
            for _ in range(300):
                if await handled_count(
                    session, settings.worker_web_port, "conversation.admin.closed"
                ):
                    break
                await asyncio.sleep(0.1)  # polling interval; the loop bounds the wait to 30 s
            else:
                raise AssertionError(f"worker never handled it:\n{worker.log_tail()}")
            async with session.get(
                f"http://127.0.0.1:{settings.worker_web_port}/conversations/215470312"
            ) as response:
                assert response.status == 200
                assert (await response.json())["last_topic"] == "conversation.admin.closed"
    finally:
        ingress.kill()
        worker.kill()
