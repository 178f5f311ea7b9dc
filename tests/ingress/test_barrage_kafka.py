"""A barrage of trickling clients while Intercom's signed webhooks keep landing on Kafka."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from ingress.app import WEBHOOK_PATH, Seams
from ingress.connections import GuardedServer
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from schemas import headers
from tests.conftest import TEST_SECRET
from tests.ingress.raw_http import BODY_HEAD, TRICKLE_START, status_of, trickle
from tests.ingress.serving import client_of, started
from tests.support.kafka import consume
from tests.support.waiting import until

pytestmark = pytest.mark.integration
TRICKLERS = 300
READ = 2.0  # the read timeout, seconds: every trickler is cut after it
INTERVAL = 0.4  # seconds between a trickler's header lines
ANSWER_BOUND = 2.0  # seconds a signed webhook may take during the barrage
SECRET = TEST_SECRET.encode()


async def post_signed(session: aiohttp.ClientSession, url: str, number: int) -> float:
    """POST one signed notification on a new connection; return its latency, asserting 200."""
    body = samples.notification_bytes(notification_id=f"barrage-{number}")
    signed = {"Content-Type": "application/json", "X-Hub-Signature": sign(body, SECRET)}
    began = time.monotonic()
    async with asyncio.timeout(ANSWER_BOUND), session.post(url, data=body, headers=signed) as got:
        assert got.status == 200, await got.text()
    return time.monotonic() - began


async def post_while(client: TestClient, barrage_on: Callable[[], bool]) -> list[float]:
    """Send signed webhooks one after another while the barrage lasts; return their latencies."""
    url = str(client.make_url(WEBHOOK_PATH))
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        while barrage_on():
            latencies.append(await post_signed(session, url, len(latencies)))
    return latencies


async def test_signed_webhooks_get_200_while_hundreds_of_clients_trickle(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """Tricklers of headers or bodies get 408 at the deadline; signed webhooks keep getting 200."""
    settings = kafka_settings.model_copy(update={"ingress_read_timeout_seconds": READ})
    async with started(settings, Seams(spool_dir=tmp_path / "spool")) as ingress:
        client = await client_of(ingress)
        server = client.server.handler
        assert isinstance(server, GuardedServer)
        tricklers = [
            asyncio.create_task(trickle(client.port, start, line, INTERVAL))
            for _ in range(TRICKLERS // 2)
            for start, line in ((TRICKLE_START, b"X-Slow: 1\r\n"), (BODY_HEAD, b"{"))
        ]
        await until(lambda: server.open >= TRICKLERS, "the tricklers connected", 10)
        latencies = await post_while(client, lambda: not all(task.done() for task in tricklers))
        seen = await asyncio.gather(*tricklers)
        await client.close()
    assert max(disconnect.seconds for disconnect in seen) < READ + 3
    assert Counter(status_of(disconnect.received) for disconnect in seen) == {408: TRICKLERS}
    for stage in ("headers", "body"):
        timed_out = ingress.metrics.registry.get_sample_value(
            "ingress_connections_timed_out_total", {"stage": stage}
        )
        assert timed_out == TRICKLERS // 2
    assert len(latencies) >= 10, latencies
    records = await consume(
        settings.kafka_bootstrap_servers, settings.topic_notifications, len(latencies)
    )
    ids = {dict(record.headers)[headers.NOTIFICATION_ID] for record in records}
    assert ids == {f"barrage-{number}".encode() for number in range(len(latencies))}
