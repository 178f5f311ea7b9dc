"""The writer's replay lane in a real writer process, on the real broker, against the fake."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_commands_topic
from schemas.commands import CreateDataEvent, command_record
from schemas.headers import REPLAY, REPLAY_ID
from tests.ops.test_replay_lane_kafka import samples
from tests.stream_app.writer.conftest import make_command
from tests.stream_app.writer.test_writer_kafka import publish, until
from tests.support.kafka import produce

pytestmark = pytest.mark.integration
TINY_BUDGET = 10  # calls per 10 s: replay may take 8 of them, live keeps 2


async def publish_replayed(settings: Settings, commands: list[CreateDataEvent]) -> None:
    """Produce the commands to the replay command topic, marked as the worker's replay lane does."""
    marks = [(REPLAY, b"true"), (REPLAY_ID, b"r-test")]
    records = [(k, v, [*h, *marks]) for k, v, h in map(command_record, commands)]
    await produce(settings.kafka_bootstrap_servers, replay_commands_topic(settings), records)


@pytest.fixture
async def tiny_writer(
    writer_settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[Process, Settings]]:
    """A writer process allowed TINY_BUDGET calls per window."""
    settings = writer_settings.model_copy(update={"writer_calls_per_window": TINY_BUDGET})
    process = Process("writer", settings, tmp_path / "tiny-writer.log").start()
    try:
        await process.wait_http(settings.writer_web_port, "/writer/health")
        yield process, settings
    finally:
        process.kill()


async def test_replayed_commands_are_sent_once_and_the_ledger_spans_both_lanes(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """New replayed commands are sent once; replayed again, or already sent live, they are
    skipped as duplicates and counted in the replay lane."""
    settings = writer_settings
    live = [make_command(f"both-{i}") for i in range(5)]
    fresh = [make_command(f"replay-{i}") for i in range(20)]
    await publish(settings, live)
    await until(lambda: has_accepted(fake, live), 60, lambda: f"{fake.accepted()}")
    await publish_replayed(settings, fresh + live + fresh)
    metrics = f"http://127.0.0.1:{settings.writer_web_port}/writer/metrics"

    async def replay_done() -> bool:
        name, lane = "intercom_writer_commands_total", "replay"
        dupes = await samples(metrics, name, lane=lane, result="duplicate")
        return dupes >= len(live) + len(fresh) and await has_accepted(fake, fresh)

    await until(replay_done, 60, lambda: f"{fake.accepted()}\n{worker.log_tail()}")
    assert fake.accepted() == dict.fromkeys([c.command_id for c in live + fresh], 1)
    accepted = await samples(metrics, "intercom_writer_commands_total", result="accepted")
    assert accepted == len(live) + len(fresh)


async def has_accepted(fake: FakeIntercom, commands: list[CreateDataEvent]) -> bool:
    """Whether the fake accepted every one of the commands."""
    return all(c.command_id in fake.accepted() for c in commands)


async def test_a_live_command_goes_before_a_replay_backlog_drains(
    tiny_writer: tuple[Process, Settings], fake: FakeIntercom
) -> None:
    """With 10 calls per window and 60 replayed commands waiting, a live command is sent
    within seconds, long before the backlog (8 calls per window) is drained."""
    process, settings = tiny_writer
    backlog = [make_command(f"backlog-{i}") for i in range(60)]
    await publish_replayed(settings, backlog)

    async def replay_started() -> bool:
        return len(fake.accepted()) >= 3

    await until(replay_started, 60, lambda: f"{fake.accepted()}\n{process.log_tail()}")
    urgent = make_command("urgent")
    produced = time.monotonic()
    await publish(settings, [urgent])
    await until(lambda: has_accepted(fake, [urgent]), 15, lambda: process.log_tail())
    waited = time.monotonic() - produced
    replayed = sum(1 for c in backlog if c.command_id in fake.accepted())
    assert replayed <= 2 * (TINY_BUDGET - 2), f"backlog drained first: {replayed} sent"
    assert waited < 5, f"the live command waited {waited:.1f} s behind the replay backlog"
    assert set(fake.accepted().values()) == {1}
