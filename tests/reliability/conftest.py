"""Fixtures of the reliability scenarios and the summary table printed at the end of the run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest

from dev.fakes.intercom import FakeIntercom
from intercom_stream.settings import Settings
from tests.reliability.load import Load, plan
from tests.reliability.pipeline import Pipeline, pipeline_settings
from tests.reliability.summary import ROWS, failed, table
from tests.support.second_broker import SecondBroker

# The load each scenario holds: a steady rate for a bounded time (env vars shorten local runs).
RATE = float(os.environ.get("RELIABILITY_RATE", "300"))
SECONDS = float(os.environ.get("RELIABILITY_SECONDS", "30"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    """The fake Intercom on loopback in the test's loop, with a limit the load never reaches."""
    server = FakeIntercom(limit=100_000)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[SecondBroker]:
    """A brand-new private broker (empty data directory) a test may kill; stopped at the end."""
    second = SecondBroker(tmp_path / "kafka")
    await second.up()
    try:
        yield second
    finally:
        await second.down()


@pytest.fixture
async def pipe(
    kafka_settings: Settings, fake: FakeIntercom, tmp_path: Path
) -> AsyncIterator[Pipeline]:
    """The system on the shared broker with this test's topics; every process killed after."""
    pipeline = Pipeline(pipeline_settings(kafka_settings, fake, tmp_path), tmp_path, fake)
    try:
        yield pipeline
    finally:
        pipeline.stop_all()


def steady_load(pipe: Pipeline, prefix: str, rate: float = RATE, seconds: float = SECONDS) -> Load:
    """Return a load of `rate` notifications a second for `seconds` against the pipe's ingress."""
    url = f"http://127.0.0.1:{pipe.settings.ingress_port}/webhooks/intercom"
    return Load(url, plan(prefix, int(rate * seconds)), rate, seconds)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Give a scenario that fails before recording its figures a row saying how it failed."""
    before = len(ROWS)
    try:
        return (yield)
    except BaseException as exc:
        if len(ROWS) == before:
            failed(getattr(getattr(item, "module", None), "SCENARIO", item.name), exc)
        raise


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print one line per scenario that ran: load held, faults, bad inputs, lost, duplicated."""
    if not ROWS:
        return
    terminalreporter.section("reliability summary")
    for line in table(ROWS):
        terminalreporter.write_line(line)
    total = sum(row.seconds for row in ROWS)
    terminalreporter.write_line(f"{len(ROWS)} scenarios, {total:.0f} s in scenario bodies")
