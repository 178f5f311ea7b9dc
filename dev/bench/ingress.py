"""Benchmark: the real ingress against a bare verify-and-200 aiohttp endpoint, both under wrk.

Run with the local broker up (`make bench-ingress`). Both servers run side by side and are measured
in alternating rounds, so that drift in a shared machine's speed hits both alike. Prints each
round's request rates, p50/p99 latency and ratio ingress/baseline, then the medians. The goal is a
median ratio of at least 0.6 with a median ingress p99 of at most 25 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiohttp import web

from dev.bench.common import (
    bench_settings,
    delete_bench_topics,
    free_port,
    start_process,
    stop_process,
)
from ingress.main import event_loop
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import HEADER, sign, verify

SECRET = "bench-client-secret"
LUA = Path(__file__).with_suffix(".lua")
CONNECTIONS, THREADS, SECONDS, WARMUP_SECONDS, ROUNDS = 32, 2, 10, 3, 3
GOAL_RATIO, GOAL_P99_MS = 0.6, 25.0


@dataclass(frozen=True)
class Load:
    """What wrk sends: the URL, the body file and its signature."""

    wrk: str
    body_file: Path
    signature: str


@dataclass(frozen=True)
class Result:
    """One measurement: request rate, latency percentiles and errors."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def line(self, name: str) -> str:
        """Return the result as one printable line."""
        return (
            f"{name:<9} {self.rps:8.0f} req/s   p50 {self.p50_ms:6.2f} ms   "
            f"p99 {self.p99_ms:6.2f} ms   errors {self.errors}"
        )


def ensure_wrk() -> str:
    """Return the wrk binary, installing the Debian package if it is missing."""
    if found := shutil.which("wrk"):
        return found
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def wait_ready(url: str, process: Any, timeout: float = 60) -> None:
    """Poll a URL until it answers 200 with status ok (Kafka connected), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200 and json.loads(response.read())["status"] == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not become ready within {timeout}s")


def run_wrk(load: Load, url: str, seconds: int) -> dict[str, int]:
    """Run wrk against the URL and return the summary the lua script prints."""
    env = {**os.environ, "BENCH_BODY_FILE": str(load.body_file), "BENCH_SIGNATURE": load.signature}
    command = [load.wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(LUA), url]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return dict(json.loads(line.removeprefix("BENCH ")))


def measure(load: Load, url: str) -> Result:
    """Measure one endpoint for SECONDS."""
    summary = run_wrk(load, url, SECONDS)
    return Result(
        rps=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=summary["non_2xx"] + summary["socket_errors"],
    )


def baseline_server(port: int) -> None:
    """Serve a bare endpoint that only verifies the signature and answers 200."""
    secrets = (SECRET.encode(),)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        verify(request.headers.getall(HEADER, []), body, secrets)
        return web.Response(body=b'{"status":"accepted"}', content_type="application/json")

    async def ready(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/webhooks/intercom", receive)
    app.router.add_get("/readyz", ready)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=event_loop())


@contextmanager
def ingress_url(work: Path) -> Iterator[str]:
    """Run the real ingress process on its own topics; yield its webhook URL."""
    settings = asyncio.run(
        bench_settings(
            "ingress", SECRET, ingress_host="127.0.0.1", ingress_port=free_port(),
            ingress_spool_dir=str(work / "spool"),
        )
    )  # fmt: skip
    process = start_process("ingress", settings, work / "ingress.log")
    try:
        base = f"http://127.0.0.1:{settings.ingress_port}"
        wait_ready(base + "/readyz", process)
        yield base + "/webhooks/intercom"
    finally:
        stop_process(process)


@contextmanager
def baseline_url(work: Path) -> Iterator[str]:
    """Run the bare endpoint in its own process; yield its webhook URL."""
    port = free_port()
    command = [sys.executable, __file__, "--baseline-server", str(port)]
    with (work / "baseline.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        yield f"http://127.0.0.1:{port}/webhooks/intercom"
    finally:
        process.terminate()
        process.wait(timeout=30)


def rounds(load: Load, ingress: str, baseline: str) -> list[tuple[Result, Result]]:
    """Warm both endpoints up, then measure them in alternating rounds."""
    run_wrk(load, ingress, WARMUP_SECONDS)
    run_wrk(load, baseline, WARMUP_SECONDS)
    measured = []
    for number in range(1, ROUNDS + 1):
        pair = measure(load, ingress), measure(load, baseline)
        print(f"round {number}: {pair[0].line('ingress')}")
        print(f"         {pair[1].line('baseline')}   ratio {pair[0].rps / pair[1].rps:.2f}")
        measured.append(pair)
    return measured


def bench(work: Path) -> int:
    """Measure both, print the comparison, and return 0 when the goal is met."""
    body = samples.notification_bytes()
    (work / "body.json").write_bytes(body)
    load = Load(ensure_wrk(), work / "body.json", sign(body, SECRET.encode()))
    print(
        f"body {len(body)} B, {CONNECTIONS} connections, {ROUNDS} rounds of {SECONDS} s each, "
        f"wrk {THREADS} threads"
    )
    with ingress_url(work) as ingress, baseline_url(work) as baseline:
        measured = rounds(load, ingress, baseline)
    ratio = statistics.median(a.rps / b.rps for a, b in measured)
    p99 = statistics.median(a.p99_ms for a, _ in measured)
    errors = sum(a.errors for a, _ in measured)
    rates = [statistics.median(r.rps for r in side) for side in zip(*measured, strict=True)]
    print(f"median ingress {rates[0]:.0f} req/s (p99 {p99:.2f} ms), baseline {rates[1]:.0f} req/s")
    print(f"median ratio {ratio:.2f} (goal >= {GOAL_RATIO}, ingress p99 <= {GOAL_P99_MS} ms)")
    met = ratio >= GOAL_RATIO and p99 <= GOAL_P99_MS and not errors
    print("goal met" if met else "goal NOT met")
    return 0 if met else 1


def main() -> int:
    """Run the benchmark, or serve the baseline endpoint when asked to."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-server", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.baseline_server:
        baseline_server(args.baseline_server)
        return 0
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingress-") as work:
            return bench(Path(work))
    finally:
        asyncio.run(delete_bench_topics(Settings.from_env(os.environ).bootstrap_servers()))


if __name__ == "__main__":
    sys.exit(main())
