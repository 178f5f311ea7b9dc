"""Runs the real `intercom-stream` processes as subprocesses, for the tests and the benchmarks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from intercom_stream.settings import Settings


def free_port() -> int:
    """Return a TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """Return this process's environment overlaid with the settings."""
    return {**os.environ, **settings.environment()}


async def wait_answering(
    url: str, timeout: float, check: Callable[[], None], describe: Callable[[], str]
) -> None:
    """Poll the URL until it answers below 500 (`check` may fail early); fail with `describe()`."""
    try:
        async with asyncio.timeout(timeout), aiohttp.ClientSession() as session:
            while True:
                check()
                try:
                    async with session.get(url) as response:
                        if response.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)  # polling interval; the timeout bounds the wait
    except TimeoutError:
        raise AssertionError(f"{url} did not answer within {timeout}s: {describe()}") from None


class Process:
    """One `intercom-stream <command>` child process with its output in a log file."""

    def __init__(self, command: str, settings: Settings, log_path: Path) -> None:
        """Remember what to run; nothing starts until start()."""
        self.command = command
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        """Start the child process."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "intercom_stream", self.command],
                env=settings_env(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the process's output."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    async def wait_http(self, port: int, path: str, timeout: float = 60.0) -> None:
        """Wait until the process answers HTTP on the port, failing with its log on timeout."""

        def alive() -> None:
            assert self.proc is not None
            assert self.proc.poll() is None, self.log_tail()

        url = f"http://127.0.0.1:{port}{path}"
        await wait_answering(url, timeout, alive, lambda: f"{self.command}:\n{self.log_tail()}")

    def send_signal(self, sig: int) -> bool:
        """Send a signal to the process alone (not its group); return whether it was running."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        self.proc.send_signal(sig)
        return True

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send a signal to the process group and wait for it to end."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
