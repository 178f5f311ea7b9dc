"""The worker killed with SIGKILL five times under load: nothing lost, nothing sent twice."""

from __future__ import annotations

import random
import time

import pytest

from tests.reliability.conftest import steady_load
from tests.reliability.load import Load
from tests.reliability.pipeline import Pipeline, assert_clean, run_load, settle, until_posted
from tests.reliability.summary import record

SCENARIO = "2 worker kill -9 x5"
pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(420)]
KILLS = 5


async def test_worker_killed_five_times_under_load_loses_and_doubles_nothing(
    pipe: Pipeline, unique: str
) -> None:
    """Five kill -9s of the worker at seeded random points; every notification and call once."""
    started = time.monotonic()
    await pipe.start_all()
    load = steady_load(pipe, f"wk{unique}")
    points = sorted(random.Random(unique).sample(range(5, 90), KILLS))  # % of the plan

    async def faults(load: Load) -> None:
        for point in points:
            await until_posted(load, len(load.postings) * point // 100)
            await pipe.kill_and_restart("worker")

    await run_load(load, faults)
    result = await settle(pipe, load)
    seconds = time.monotonic() - started
    record(
        SCENARIO,
        seconds,
        load,
        result,
        f"{pipe.kills['worker']} worker SIGKILLs at {points}% of the load",
        notes=f"{result.command_records - result.commands_expected} command records redelivered",
    )
    assert pipe.kills["worker"] == KILLS
    assert_clean(load, result)
