"""Watches a worker process during a benchmark: CPU, RSS, produce requests and a profile split.

The profile is `py-spy record` (non-blocking sampling, every thread); each sample is charged
to the first frame, from the innermost out, that belongs to a known group, so time in asyncio
or the standard library counts for whoever called it. `faust` includes the event loops' own
native time (uvloop runs its callbacks without Python frames) and faust's fetch thread.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GROUPS = (
    ("producer", ("aiokafka/producer/", "aiokafka/record/", "aiokafka/protocol/", "aiokafka/conn")),
    ("producer", ("aiokafka/client.py", "aiokafka/util.py")),
    ("store", ("faust/stores/", "rocksdict")),
    ("ours", ("stream_app/",)),  # stream_app/faust/ is ours too, not faust's
    ("faust", ("faust/", "mode/")),
    ("ours", ("stream_app/", "schemas/", "intercom_stream/", "pydantic", "orjson", "structlog")),
    ("ours", ("prometheus_client/",)),
)


def worker_command() -> list[str]:
    """Return the command that runs a worker while counting its produce requests."""
    return [sys.executable, str(REPO / "dev/bench/worker_probe.py"), "worker"]


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system, every thread) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Return the process's resident set size (or VmHWM, its peak) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def produce_requests(log: Path) -> tuple[int, int]:
    """Return (requests, records) from the probe's last line in the worker's log."""
    found = re.findall(r"PROBE requests=(\d+) records=(\d+)", log.read_text(errors="replace"))
    return (int(found[-1][0]), int(found[-1][1])) if found else (0, 0)


def group(frame: str) -> str | None:
    """Return the group a py-spy frame `name (file:line)` belongs to, if any."""
    for name, markers in GROUPS:
        if any(marker in frame for marker in markers):
            return name
    return None


def charge(stack: list[str]) -> str:
    """Return the group the innermost known frame of the stack belongs to."""
    for frame in reversed(stack):
        found = group(frame)
        if found is not None:
            return found
    return "other"


async def profile(pid: int, seconds: float, out: Path) -> collections.Counter[str]:
    """Sample the process for `seconds`; return sample counts per group."""
    command = ["py-spy", "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200"]
    command += ["-f", "raw", "--nonblocking", "-o", str(out)]
    spy = Path(sys.executable).parent / "py-spy"
    proc = await asyncio.create_subprocess_exec(
        str(spy), *command[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    await proc.wait()
    return charged(out)


def charged(out: Path) -> collections.Counter[str]:
    """Return sample counts per group from a py-spy raw (collapsed stacks) file."""
    counts: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if stack:
            counts[charge(stack.split(";"))] += int(samples)
    return counts


@dataclass
class Window:
    """CPU used and notifications handled between two moments of a run."""

    cpu: float
    handled: int

    def split(self, counts: collections.Counter[str]) -> str:
        """Return the CPU µs per notification, in all and per group of the profile."""
        per = self.cpu / max(1, self.handled) * 1e6
        total = sum(counts.values()) or 1
        parts = ", ".join(f"{name} {per * n / total:.0f}" for name, n in counts.most_common())
        return f"{per:.0f} µs CPU per notification ({parts})"
