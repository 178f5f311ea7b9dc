"""Runs `intercom-stream` operations commands as real subprocesses, without a terminal."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import orjson

from dev.support.processes import settings_env
from intercom_stream.settings import Settings

CLI_TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    """A finished command: exit code, standard output and standard error."""

    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        """Return stdout parsed as one JSON object per line."""
        return [orjson.loads(line) for line in self.out.splitlines() if line.strip()]


async def cli(settings: Settings, *args: str, expect: int = 0) -> Run:
    """Run the command to the end (bounded), failing clearly on an unexpected exit code."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom_stream", *args,
        env=settings_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        proc.kill()
        raise AssertionError(f"intercom-stream {' '.join(args)} ran past {CLI_TIMEOUT}s") from None
    run = Run(proc.returncode or 0, out.decode(), err.decode())
    assert run.code == expect, f"{args} exited {run.code}:\n{run.out}\n{run.err}"
    return run
