"""The broker killed with SIGKILL mid-load and restarted: every webhook answered 200, none lost."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.topics import delete_topics
from intercom_stream.settings import Settings, namespaced_topics
from intercom_stream.topics import ensure_topics
from tests.reliability.conftest import steady_load
from tests.reliability.load import Load
from tests.reliability.pipeline import (
    Pipeline,
    assert_clean,
    pipeline_settings,
    run_load,
    settle,
    until_posted,
)
from tests.reliability.summary import record
from tests.support.second_broker import SecondBroker

SCENARIO = "1 broker kill -9 + restart"
pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(420)]
DOWN_SECONDS = 10.0  # how long the broker stays dead, under load


@pytest.fixture
async def private_pipe(
    broker: SecondBroker,
    make_settings: Callable[..., Settings],
    fake: FakeIntercom,
    unique: str,
    tmp_path: Path,
) -> AsyncIterator[Pipeline]:
    """The system on the private broker with this test's topics; processes killed after."""
    base = make_settings(
        kafka_bootstrap_servers=broker.address,
        **namespaced_topics(f"t-{unique}"),
        worker_app_id=f"app-{unique}",
        topic_partitions=4,
    )
    settings = pipeline_settings(base, fake, tmp_path)
    await ensure_topics(settings)
    pipe = Pipeline(settings, tmp_path, fake)
    try:
        yield pipe
    finally:
        pipe.stop_all()
        await delete_topics(broker.address, lambda name: unique in name)


def kill_broker(broker: SecondBroker) -> int:
    """SIGKILL the broker's JVM (the pid in its run directory) and return the pid."""
    pid = int((broker.run_dir / "kafka.pid").read_text().strip())
    os.kill(pid, signal.SIGKILL)
    return pid


async def test_broker_killed_and_restarted_mid_load_answers_200_and_loses_nothing(
    broker: SecondBroker, private_pipe: Pipeline, unique: str
) -> None:
    """kill -9 of the only broker at a third of the load, restarted after DOWN_SECONDS."""
    pipe = private_pipe
    started = time.monotonic()
    await pipe.start_all()
    load = steady_load(pipe, f"bk{unique}")
    outage: list[float] = []

    async def faults(load: Load) -> None:
        await until_posted(load, len(load.postings) // 3)
        kill_broker(broker)
        down = time.monotonic()
        await asyncio.sleep(DOWN_SECONDS)  # hold the fault for its duration
        await broker.up()
        outage.append(time.monotonic() - down)

    await run_load(load, faults)
    dead = {
        label: code for label, p in pipe.processes.items() if p.proc and (code := p.proc.poll())
    }
    result = await settle(pipe, load)
    record(
        SCENARIO,
        time.monotonic() - started,
        load,
        result,
        f"broker SIGKILL, down {outage[0]:.0f} s (restart included)",
        notes=f"exited during the outage: {dead or 'none'}",
    )
    assert_clean(load, result)
    assert dead == {}, f"processes exited during the outage: {dead}\n{pipe.tails()}"
