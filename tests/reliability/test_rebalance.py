"""Two workers with partitions moving between them mid-load: nothing lost, nothing sent twice."""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import steady_load
from tests.reliability.load import Load
from tests.reliability.pipeline import Pipeline, assert_clean, run_load, settle, until_posted
from tests.reliability.summary import record

SCENARIO = "6 two workers, rebalances"
pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(420)]


async def test_partitions_moving_between_two_workers_lose_and_double_nothing(
    pipe: Pipeline, unique: str
) -> None:
    """A second worker joins at a third of the load; the first is killed at two thirds."""
    started = time.monotonic()
    await pipe.start_all()
    load = steady_load(pipe, f"rb{unique}")

    async def faults(load: Load) -> None:
        await until_posted(load, len(load.postings) // 3)
        await pipe.start("worker-2")
        await until_posted(load, len(load.postings) * 2 // 3)
        pipe.kill("worker")

    await run_load(load, faults)
    result = await settle(pipe, load, timeout=90)
    record(
        SCENARIO,
        time.monotonic() - started,
        load,
        result,
        "2nd worker joins at 1/3, 1st SIGKILLed at 2/3",
        notes=f"{result.command_records - result.commands_expected} command records redelivered",
    )
    assert_clean(load, result)
