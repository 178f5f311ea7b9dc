"""A first start on a brand-new broker, under load from the moment the ingress answers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import settings_env
from intercom_stream.settings import Settings
from tests.reliability.conftest import steady_load
from tests.reliability.pipeline import Pipeline, assert_clean, pipeline_settings, settle
from tests.reliability.summary import record
from tests.support.second_broker import SecondBroker
from tests.test_first_start import first_start_settings

SCENARIO = "7 first start, new broker"
pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(420)]


async def test_first_start_on_a_new_broker_under_load_loses_and_dead_letters_nothing(
    broker: SecondBroker,
    make_settings: Callable[..., Settings],
    fake: FakeIntercom,
    tmp_path: Path,
) -> None:
    """`topics create`, then the load starts as soon as the ingress answers, beside the others."""
    started = time.monotonic()
    base = first_start_settings(make_settings, broker)  # the shipped topic names and app id
    pipe = Pipeline(pipeline_settings(base, fake, tmp_path), tmp_path, fake)
    try:
        created = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "intercom_stream", "topics", "create"],
            env=settings_env(pipe.settings),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert created.returncode == 0, created.stderr
        await pipe.start("ingress")
        load = steady_load(pipe, "first")
        await asyncio.gather(load.run(), pipe.start("worker"), pipe.start("writer"))
        result = await settle(pipe, load, timeout=240)
    finally:
        pipe.stop_all()
    record(
        SCENARIO,
        time.monotonic() - started,
        load,
        result,
        "brand-new broker; load from the ingress's first answer, worker and writer starting",
    )
    assert_clean(load, result)
