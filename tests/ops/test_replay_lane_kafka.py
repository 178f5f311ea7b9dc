"""Replay through the worker's replay lane and the writer, against the fake Intercom."""

from __future__ import annotations

import time
from collections import Counter

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_commands_topic
from schemas import headers
from schemas.commands import COMMAND_ID_RECORD_HEADER
from stream_app.rules import command_id
from tests.ops.cli import cli
from tests.ops.notifications import write_notifications
from tests.ops.test_replay_cli_kafka import iso
from tests.stream_app.writer.test_writer_kafka import until
from tests.support.kafka import consume_all

pytestmark = pytest.mark.integration
HOUR_MS = 3_600_000
RULES = {
    "conversation.user.created": "conversation-started",
    "conversation.admin.closed": "conversation-closed",
}


async def samples(url: str, name: str, **labels: str) -> float:
    """Return the sum of a metric's samples whose labels include the given ones."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def assert_commands_in_their_lanes(settings: Settings, live: int, chosen: set[str]) -> None:
    """Check the replayed commands are on the replay command topic, marked, and not live."""
    bootstrap = settings.kafka_bootstrap_servers
    replayed = await consume_all(bootstrap, replay_commands_topic(settings), idle=0.5)
    assert {dict(r.headers)[COMMAND_ID_RECORD_HEADER].decode() for r in replayed} == chosen
    assert all(dict(r.headers)[headers.REPLAY] == b"true" for r in replayed)
    assert all(dict(r.headers)[headers.REPLAY_ID].startswith(b"r-") for r in replayed)
    assert len(await consume_all(bootstrap, settings.topic_commands, idle=0.5)) == live


async def test_replay_by_time_and_topic_reprocesses_the_selection_and_sends_nothing_twice(
    ops_settings: Settings, worker_process: Process, writer_process: Process, fake: FakeIntercom
) -> None:
    """Replayed notifications are handled in the replay lane and their commands go to the replay
    command topic, where the ledger skips them; --force-resend makes exactly one more call per
    selected command."""
    settings = ops_settings
    base = int(time.time() * 1000) - 5 * HOUR_MS
    topics = [*RULES, "contact.user.created"]
    specs = [
        (f"n-{h}-{i}", topic, base + h * HOUR_MS)
        for h in range(3)
        for i, topic in enumerate(topics)
    ]
    await write_notifications(settings, specs)
    commands = {command_id(n, RULES[t]): n for n, t, _ in specs if t in RULES}
    worker = f"http://127.0.0.1:{settings.worker_web_port}/metrics"
    writer = f"http://127.0.0.1:{settings.writer_web_port}/writer/metrics"

    async def live_done() -> bool:
        return set(fake.accepted()) == set(commands)

    await until(live_done, 60, lambda: f"{fake.accepted()}\n{writer_process.log_tail()}")
    window = ["--since", iso(base + HOUR_MS), "--until", iso(base + 2 * HOUR_MS + 1)]
    selection = [*window, "--topic", "conversation.admin.*"]
    chosen = {command_id(f"n-{h}-1", RULES["conversation.admin.closed"]) for h in (1, 2)}
    await cli(settings, "replay", *selection, "--execute")

    async def replayed(count: int, skipped: int) -> bool:
        handled = await samples(
            worker, "intercom_stream_notifications_handled_total", lane="replay"
        )
        dupes = await samples(writer, "intercom_writer_commands_total", result="duplicate")
        return handled >= count and dupes >= skipped

    await until(lambda: replayed(2, 2), 60, lambda: f"{worker_process.log_tail()}")
    assert fake.accepted() == Counter(dict.fromkeys(commands, 1))
    await assert_commands_in_their_lanes(settings, len(commands), chosen)

    await cli(settings, "replay", *selection, "--force-resend", "--execute")

    async def resent() -> bool:
        return all(fake.accepted()[c] == 2 for c in chosen)

    await until(resent, 60, lambda: f"{fake.accepted()}\n{writer_process.log_tail()}")
    assert await replayed(4, 2)
    assert fake.accepted() == Counter({c: 2 if c in chosen else 1 for c in commands})
