"""An Intercom outage against a real writer process on the real broker: commands wait, then go."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.support.processes import Process, free_port
from intercom_stream.settings import Settings
from tests.stream_app.writer.test_writer_kafka import (
    assert_contact_order,
    contacts_batch,
    publish,
    until,
)
from tests.support.kafka import consume_all

pytestmark = pytest.mark.integration

# With two attempts and backoff capped at 0.3 s, the writer before the circuit dead-lettered
# every command of this test within about two seconds of the first refused connection.
HOLD_SECONDS = 8.0
POLL_SECONDS = 0.25


@pytest.fixture
def outage_settings(kafka_settings: Settings) -> Settings:
    """Settings pointing the writer at a loopback port nothing listens on, with quick retries."""
    return kafka_settings.model_copy(
        update={
            "intercom_api_url": f"http://127.0.0.1:{free_port()}",
            "intercom_access_token": DEFAULT_TOKEN,
            "writer_web_port": free_port(),
            "writer_max_attempts": 2,
            "writer_backoff_cap_seconds": 0.3,
            "writer_probe_first_seconds": 0.1,
            "writer_connect_timeout_seconds": 1.0,
        }
    )


async def health(session: aiohttp.ClientSession, settings: Settings) -> tuple[int, Any]:
    """Return the status and JSON body of /writer/health."""
    url = f"http://127.0.0.1:{settings.writer_web_port}/writer/health"
    async with session.get(url) as response:
        return response.status, await response.json()


async def holds_degraded(
    session: aiohttp.ClientSession, settings: Settings, process: Process
) -> None:
    """Check, polling for HOLD_SECONDS, that health stays 503 degraded with the circuit open."""
    for _ in range(int(HOLD_SECONDS / POLL_SECONDS)):
        status, body = await health(session, settings)
        assert (status, body["state"], body["circuit"]) == (503, "degraded", "open"), (
            f"{body}\n{process.log_tail()}"
        )
        await asyncio.sleep(POLL_SECONDS)  # the polling interval of an observation, not a wait


async def test_an_unreachable_intercom_holds_every_command_then_delivers_each_once(
    outage_settings: Settings, tmp_path: Path
) -> None:
    """Refused connections for far longer than the old retries took: no dead letter; then order."""
    settings = outage_settings
    commands = list(contacts_batch(contacts=4, per_contact=3, prefix="outage"))
    process = Process("writer", settings, tmp_path / "writer.log").start()
    fake = FakeIntercom(limit=600)
    try:
        await process.wait_http(settings.writer_web_port, "/writer/health")
        await publish(settings, commands)
        async with aiohttp.ClientSession() as session:

            async def degraded() -> bool:
                return (await health(session, settings))[1]["state"] == "degraded"

            await until(degraded, 60, lambda: f"never degraded\n{process.log_tail()}")
            await holds_degraded(session, settings, process)
            letters = await consume_all(
                settings.kafka_bootstrap_servers, settings.topic_dead_letter
            )
            assert letters == [], [r.value[:200] for r in letters]

            await fake.start(port=int(settings.intercom_api_url.rsplit(":", 1)[1]))

            async def delivered() -> bool:
                return len(fake.accepted()) == len(commands)

            await until(delivered, 60, lambda: f"{fake.accepted()}\n{process.log_tail()}")
            status, body = await health(session, settings)
            assert (status, body["healthy"], body["state"]) == (200, True, "healthy")
        assert fake.accepted() == {c.command_id: 1 for c in commands}
        assert_contact_order(fake, commands)
        letters = await consume_all(settings.kafka_bootstrap_servers, settings.topic_dead_letter)
        assert letters == []
    finally:
        process.kill()
        await fake.stop()
