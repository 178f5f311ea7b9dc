"""A second, private Kafka broker that a test may stop and start (dev/kafka/kafka.sh)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

from dev.support.processes import free_port
from tests.support.broker import KAFKA_SCRIPT


class SecondBroker:
    """One broker on its own ports and run directory, sharing the cached jars."""

    def __init__(self, run_dir: Path) -> None:
        """Pick free ports; nothing starts until up()."""
        self.port = free_port()
        self.controller_port = free_port()
        self.run_dir = run_dir
        self.address = f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        """The environment that points kafka.sh at this broker."""
        env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        env.update(
            KAFKA_PORT=str(self.port),
            KAFKA_CONTROLLER_PORT=str(self.controller_port),
            KAFKA_RUN_DIR=str(self.run_dir),
        )
        return env

    def run(self, action: str) -> None:
        """Run kafka.sh up or down, failing with its output."""
        result = subprocess.run(
            [KAFKA_SCRIPT, action], env=self._env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"kafka.sh {action} failed:\n{result.stdout}\n{result.stderr}")

    async def up(self) -> None:
        """Start the broker and wait until it answers."""
        try:
            await asyncio.to_thread(self.run, "up")
        except AssertionError as exc:
            # kafka.sh may draw a cluster id starting with "-", which kafka-storage takes for
            # an option; a fresh data directory draws a new one.
            if "formatting the KRaft data directory failed" not in str(exc):
                raise
            shutil.rmtree(self.run_dir / "data", ignore_errors=True)
            await asyncio.to_thread(self.run, "up")

    async def down(self) -> None:
        """Stop the broker (controlled shutdown)."""
        await asyncio.to_thread(self.run, "down")
