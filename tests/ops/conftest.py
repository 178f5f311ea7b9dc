"""Fixtures of the operations tests: settings for both processes, the processes, the fake."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.support.processes import Process, free_port, settings_env
from intercom_stream.settings import Settings
from tests.stream_app.writer.conftest import fake

__all__ = ["fake"]


@pytest.fixture
def ops_settings(kafka_settings: Settings, fake: FakeIntercom) -> Settings:
    """This test's topics, the fake Intercom, free web ports and short writer retries."""
    return kafka_settings.model_copy(
        update={
            "intercom_api_url": fake.url,
            "intercom_access_token": DEFAULT_TOKEN,
            "worker_web_port": free_port(),
            "writer_web_port": free_port(),
            "writer_max_attempts": 3,
            "writer_backoff_cap_seconds": 0.4,
        }
    )


async def started(command: str, settings: Settings, port: int, path: str, log: Path) -> Process:
    """Start an `intercom-stream` process and wait until its web server answers."""
    process = Process(command, settings, log).start()
    try:
        await process.wait_http(port, path)
    except BaseException:
        process.kill()
        raise
    return process


@pytest.fixture
async def writer_process(ops_settings: Settings, tmp_path: Path) -> AsyncIterator[Process]:
    """A running writer process."""
    port = ops_settings.writer_web_port
    process = await started("writer", ops_settings, port, "/writer/health", tmp_path / "w.log")
    yield process
    process.kill()


@pytest.fixture
async def worker_process(ops_settings: Settings, tmp_path: Path) -> AsyncIterator[Process]:
    """A running worker process."""
    port = ops_settings.worker_web_port
    process = await started("worker", ops_settings, port, "/metrics", tmp_path / "k.log")
    yield process
    process.kill()


@pytest.fixture
async def exporter_process(
    ops_settings: Settings, tmp_path: Path
) -> AsyncIterator[ExporterProcess]:
    """A running `intercom-stream exporter` reading Kafka every second."""
    process = ExporterProcess(ops_settings, free_port(), tmp_path / "exporter.log").start()
    try:
        await process.wait_http(process.port, "/metrics")
        yield process
    finally:
        process.kill()


class ExporterProcess(Process):
    """The exporter, started with its port and a one-second refresh."""

    def __init__(self, settings: Settings, port: int, log_path: Path) -> None:
        """Remember the port; nothing starts until start()."""
        super().__init__("exporter", settings, log_path)
        self.port = port

    def start(self) -> ExporterProcess:
        """Start the exporter with its arguments."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "intercom_stream", "exporter", "--host", "127.0.0.1",
                 "--port", str(self.port), "--interval", "1"],
                env=settings_env(self.settings), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self
