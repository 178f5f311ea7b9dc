"""A newcomer's first start: a brand-new broker, `topics create`, the three processes, webhooks
sent as soon as the ingress answers, the writer halted (no access token). Nothing may be
dead-lettered: the worker used to race its own tables' changelog topics (PartitionsMismatch).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from dev.support.processes import Process, free_port, settings_env
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from tests.conftest import TEST_SECRET
from tests.stream_app.factories import contact_item, contact_tag_item
from tests.support.kafka import collect_until, consume_all
from tests.support.second_broker import SecondBroker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

ROUNDS = 40  # four notifications a round: 160 in all, as in the run that found the defect


@pytest.fixture
async def fresh_broker(tmp_path: Path) -> AsyncIterator[SecondBroker]:
    """A broker with a new, empty data directory, stopped afterwards."""
    broker = SecondBroker(tmp_path / "kafka")
    await broker.up()
    try:
        yield broker
    finally:
        await broker.down()


def webhooks(round_: int) -> list[dict[str, Any]]:
    """Return one round of notifications: every one writes a table, two make a command each."""
    contact = f"c{round_:04d}"
    conversation = samples.conversation_item(f"9{round_:05d}", contact, 1_763_700_000 + round_)
    items = [
        ("conversation.user.created", conversation),
        ("contact.user.created", contact_item(contact)),
        ("contact.user.tag.created", contact_tag_item(contact, tag=f"t{round_}")),
        ("contact.user.updated", contact_item(contact, name=f"Ada {round_}")),
    ]
    return [
        samples.notification(topic, item, f"notif-{round_}-{n}")
        for n, (topic, item) in enumerate(items)
    ]


async def post_all(port: int, bodies: list[bytes]) -> list[int]:
    """POST every body signed, concurrently as Intercom would, and return the statuses."""
    url = f"http://127.0.0.1:{port}/webhooks/intercom"

    async def post(session: aiohttp.ClientSession, body: bytes) -> int:
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": sign(body, TEST_SECRET.encode()),
        }
        async with session.post(url, data=body, headers=headers) as response:
            return response.status

    async with aiohttp.ClientSession() as session:
        return list(await asyncio.gather(*(post(session, body) for body in bodies)))


def first_start_settings(make_settings: Any, broker: SecondBroker) -> Settings:
    """Settings of a newcomer's `make run`: default topics, no token, RocksDB, free ports."""
    settings: Settings = make_settings(
        kafka_bootstrap_servers=broker.address,
        intercom_access_token="",
        ingress_port=free_port(),
        worker_web_port=free_port(),
        writer_web_port=free_port(),
        worker_store="rocksdb://",
    )
    return settings


async def test_first_start_on_a_new_broker_dead_letters_nothing(
    fresh_broker: SecondBroker, make_settings: Any, tmp_path: Path
) -> None:
    """Webhooks sent the moment the ingress answers are all handled; none is dead-lettered."""
    settings = first_start_settings(make_settings, fresh_broker)
    created = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "intercom_stream", "topics", "create"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    assert "intercom-stream-contacts-changelog" in created.stdout, created.stdout
    processes = [
        Process(name, settings, tmp_path / f"{name}.log").start()
        for name in ("ingress", "worker", "writer")
    ]
    try:
        await processes[0].wait_http(settings.ingress_port, "/healthz")
        bodies = [orjson.dumps(n) for r in range(ROUNDS) for n in webhooks(r)]
        assert set(await post_all(settings.ingress_port, bodies)) == {200}
        try:
            commands = await collect_until(
                settings.kafka_bootstrap_servers,
                settings.topic_commands,
                lambda records: len(records) >= 2 * ROUNDS,
                timeout=180,
                what=f"{2 * ROUNDS} commands",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nworker log:\n{processes[1].log_tail()}") from None
        letters = await consume_all(settings.kafka_bootstrap_servers, settings.topic_dead_letter)
        reasons = {orjson.loads(r.value)["error_message"] for r in letters}
        assert letters == [], f"{len(letters)} dead letters on a first start: {reasons}"
        assert len(commands) == 2 * ROUNDS
    finally:
        for process in processes:
            process.kill()
