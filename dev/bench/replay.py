"""Benchmark: live notifications at 100/s, without and then with a replay of 10,000 running.

A worker and a writer process, the fake Intercom on loopback, the real broker. Setup writes
BENCH_REPLAY_COUNT closed-conversation notifications an hour old and waits until the fake
accepted their commands. Then live notifications are produced at BENCH_LIVE_RATE per second for
BENCH_LIVE_SECONDS (baseline), and again while `intercom-stream replay --execute` re-drives the
old ones, until the worker has handled them all. Prints live produce->command (readable on the
command topic) and produce->accepted (at the fake) p99 for both phases and their ratio (goal: within
2x), the replay rate, and the calls the fake counted (goal: none twice). Counts and rates are
overridable by the BENCH_* variables; the traffic itself is in dev/bench/replay_traffic.py.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from dev.bench.common import (  # noqa: E402
    free_port,
    start_process,
    stop_process,
)
from dev.bench.notifications import SECRET  # noqa: E402
from dev.bench.replay_traffic import (  # noqa: E402
    LIVE_RATE,
    Timings,
    accepted_times,
    after,
    fake_calls,
    live,
    metric,
    produce_old,
    until,
    watch_commands,
)
from dev.fakes.intercom import DEFAULT_TOKEN  # noqa: E402
from dev.support.processes import Process, settings_env  # noqa: E402
from dev.support.topics import delete_topics  # noqa: E402
from intercom_stream.settings import Settings, namespaced_topics  # noqa: E402
from intercom_stream.topics import ensure_topics  # noqa: E402

REPLAYED = int(os.environ.get("BENCH_REPLAY_COUNT", "10000"))
REPLAY_RATE = os.environ.get("BENCH_REPLAY_RATE", "")  # the replay's --rate; none by default
LIVE_SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS", "30"))
BUDGET = int(os.environ.get("BENCH_WRITER_BUDGET", "5000"))  # calls per 10 s, writer and fake
# Not `bench-...`: other benchmarks delete every `bench-` topic when they end, mid-run for us.
RUN = f"replay-bench-{uuid.uuid4().hex[:8]}"
LOGS = REPO / "var" / "bench" / RUN  # process logs and the live latencies (CSV)
SETTLE_SECONDS = 11.0  # the limiter's window (10 s) and margin, with a little to spare
LIVE_BASE = 1_000_000  # live notification numbers start here, replayed ones at 0


async def settled(settings: Settings) -> bool:
    """Whether no partition the worker or the writer reads has records waiting."""
    urls = [
        f"http://127.0.0.1:{settings.worker_web_port}/metrics",
        f"http://127.0.0.1:{settings.writer_web_port}/writer/metrics",
    ]
    lags = [await metric(url, "kafka_consumergroup_group_lag") for url in urls]
    return sum(lags) == 0


def iso(ms: int) -> str:
    """Return the instant as ISO 8601 UTC with milliseconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def children_cpu() -> float:
    """Return the CPU seconds this process's finished children used (user and system)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def replay_phase(
    settings: Settings, timings: Timings, base_ms: int
) -> tuple[list[str], float]:
    """Run the replay with live traffic beside it; return the live ids and the replay's seconds."""
    worker = f"http://127.0.0.1:{settings.worker_web_port}/metrics"
    handled = "intercom_stream_notifications_handled_total"
    argv = [
        "-m",
        "intercom_stream",
        "replay",
        "--since",
        iso(base_ms),
        "--until",
        iso(base_ms + REPLAYED),
        "--execute",
        *(["--rate", REPLAY_RATE] if REPLAY_RATE else []),
    ]
    finished = asyncio.Event()
    traffic = asyncio.create_task(live(settings, timings, LIVE_BASE + 10_000_000, finished))
    begin, before = time.monotonic(), children_cpu()
    cli = await asyncio.create_subprocess_exec(
        sys.executable, *argv, env=settings_env(settings), cwd=REPO, stdout=subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(cli.communicate(), 300)
    print("  " + (output.decode().strip().splitlines() or ["(no output)"])[-1], flush=True)
    cpu, ran = children_cpu() - before, time.monotonic() - begin
    print(f"  the replay command ran {ran:.1f} s and used {cpu:.1f} s of CPU", flush=True)

    async def replayed() -> bool:
        return await metric(worker, handled, lane="replay") >= REPLAYED

    # Once a second: each poll is a scrape the worker renders on the event loop it measures.
    what = f"the worker to handle {REPLAYED} replayed notifications"
    await until(replayed, 600, what, every=1.0)
    seconds = time.monotonic() - begin
    finished.set()
    return await traffic, seconds


async def main() -> int:
    """Run the benchmark and return the exit status."""
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    settings = Settings.from_env(
        os.environ,
        intercom_client_secret=SECRET,
        **namespaced_topics(RUN),
        worker_app_id=RUN,
        worker_web_port=free_port(),
        intercom_api_url=fake_url,
        intercom_access_token=DEFAULT_TOKEN,
        writer_web_port=free_port(),
        worker_store="memory://",
        writer_calls_per_window=BUDGET,
        log_level="warning",
    )
    await ensure_topics(settings)
    logs = LOGS
    logs.mkdir(parents=True, exist_ok=True)
    argv = ["-m", "dev.fakes.intercom", "--port", str(fake_port), "--limit", str(BUDGET)]
    fake = start_process("fake", settings, logs / "fake.log", [sys.executable, *argv])
    procs = [Process(c, settings, logs / f"{c}.log").start() for c in ("worker", "writer")]
    timings = Timings()
    watcher = asyncio.create_task(asyncio.sleep(0))
    try:
        await procs[0].wait_http(settings.worker_web_port, "/metrics")
        await procs[1].wait_http(settings.writer_web_port, "/writer/health")
        watcher = asyncio.create_task(watch_commands(settings, timings))
        return await run(settings, fake_url, timings)
    finally:
        watcher.cancel()
        for proc in procs:
            proc.kill()
        stop_process(fake)
        print(f"process logs: {logs}")


async def run(settings: Settings, fake_url: str, timings: Timings) -> int:
    """Set up, measure both phases, print the figures; return the exit status."""
    base_ms = (int(time.time()) - 3600) * 1000
    print(f"setup: {REPLAYED} notifications an hour old, their commands sent ...", flush=True)
    await produce_old(settings, REPLAYED, base_ms)

    async def setup_done() -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{fake_url}/_fake/stats") as got:
            return int((await got.json())["accepted_ids"]) >= REPLAYED

    await until(setup_done, 300, f"the fake to accept {REPLAYED} setup commands")
    await asyncio.sleep(SETTLE_SECONDS)  # setup's calls leave the writer's sliding window
    await until(lambda: settled(settings), 300, "the worker and the writer to have no lag")
    print(f"baseline: live at {LIVE_RATE:.0f}/s for {LIVE_SECONDS:.0f} s ...", flush=True)
    baseline = await live(settings, timings, LIVE_BASE, after(LIVE_SECONDS))
    print(f"replay of {REPLAYED} with live at {LIVE_RATE:.0f}/s ...", flush=True)
    during, replay_seconds = await replay_phase(settings, timings, base_ms)
    everything = baseline + during

    async def live_done() -> bool:
        accepted = {c["command_id"] for c in await fake_calls(fake_url) if c["status"] == 202}
        return accepted >= set(everything)

    await until(live_done, 120, "the fake to accept every live command")
    return report(timings, await fake_calls(fake_url), baseline, during, replay_seconds)


def report(
    timings: Timings,
    calls: list[dict[str, Any]],
    baseline: list[str],
    during: list[str],
    replay_seconds: float,
) -> int:
    """Print the figures and return 0 when both goals are met."""
    accepted_at = accepted_times(calls)
    timings.dump(LOGS / "live-latencies.csv", {"baseline": baseline, "replay": during}, accepted_at)
    counts = Counter(c["command_id"] for c in calls if c["status"] == 202)
    twice = sum(1 for n in counts.values() if n > 1)
    print(
        f"\n{'live latency p50 / p99 (s)':<28}{'without replay':>16}{'with replay':>16}"
        f"{'p99 ratio':>10}"
    )
    ratios = []
    for name, seen in (
        ("produce -> command readable", timings.on_kafka),
        ("produce -> accepted (fake)", accepted_at),
    ):
        quiet, busy = (timings.quantile(ids, seen, 0.99) for ids in (baseline, during))
        medians = [f"{timings.quantile(ids, seen, 0.5):.3f} / " for ids in (baseline, during)]
        ratios.append(busy / quiet)
        print(
            f"{name:<28}{medians[0] + f'{quiet:.3f}':>16}{medians[1] + f'{busy:.3f}':>16}"
            f"{busy / quiet:>9.2f}x"
        )
    rate = REPLAYED / replay_seconds
    print(
        f"\nreplay: {REPLAYED} notifications in {replay_seconds:.1f} s, {rate:.0f}/s, "
        f"beside {LIVE_RATE:.0f}/s live"
    )
    expected = REPLAYED + len(baseline) + len(during)
    print(
        f"fake: {len(calls)} calls, {sum(counts.values())} accepted, {len(counts)} command ids "
        f"(expected {expected}), {twice} accepted more than once"
    )
    passed = max(ratios) <= 2.0 and twice == 0
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


def stop_on_term(signum: int, frame: Any) -> None:
    """Exit on SIGTERM, so that the processes are stopped and the topics deleted."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_term)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    try:
        sys.exit(asyncio.run(main()))
    finally:
        if not os.environ.get("KEEP_BENCH_TOPICS"):
            asyncio.run(delete_topics(bootstrap, lambda name: name.startswith(RUN)))
