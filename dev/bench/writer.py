"""Benchmark: two writer processes drain 10,000 commands into a fake Intercom limited to 600/10 s.

Prints the calls the fake counted in each 10-second window against the limit, the 429s, the
share of the budget used in the saturated windows, and the time from produce to accept.
Needs the broker (make kafka-up); creates its own topics. Pass: 0 rate-limit 429s and >= 90%
of the budget used at saturation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from dev.bench.common import delete_bench_topics  # noqa: E402
from dev.fakes.intercom import DEFAULT_TOKEN  # noqa: E402
from dev.support.processes import Process, free_port  # noqa: E402
from intercom_stream.settings import Settings, namespaced_topics  # noqa: E402
from intercom_stream.topics import ensure_topics  # noqa: E402
from schemas.commands import CreateDataEvent, command_record  # noqa: E402

LIMIT = 600
PARTITIONS = 8


def bench_settings(bootstrap: str, fake_url: str, run: str) -> Settings:
    """Return settings with this run's own topics, pointed at the fake."""
    return Settings.from_env(
        os.environ,
        kafka_bootstrap_servers=bootstrap,
        intercom_client_secret="bench-secret",
        intercom_access_token=DEFAULT_TOKEN,
        intercom_api_url=fake_url,
        **namespaced_topics(f"bench-{run}"),
        worker_app_id=f"bench-writer-{run}",
        worker_store="memory://",
        topic_partitions=PARTITIONS,
        writer_calls_per_window=LIMIT,
        log_level="warning",
    )


def commands(count: int, contacts: int) -> list[CreateDataEvent]:
    """Return `count` valid commands spread over `contacts` contacts."""
    return [
        CreateDataEvent.model_validate(
            {
                "command_id": f"bench-{i}",
                "source": "bench",
                "issued_at_ms": int(time.time() * 1000),
                "event": {
                    "event_name": "placed-order",
                    "created_at": 1_763_700_000 + i,
                    "user_id": f"user-{i % contacts}",
                    "metadata": {
                        "order_number": f"A-{i}",
                        "price": {"amount": 999, "currency": "eur"},
                    },
                },
            }
        )
        for i in range(count)
    ]


async def produce(settings: Settings, batch: list[CreateDataEvent]) -> dict[str, float]:
    """Produce every command and return the time each was acknowledged by the broker."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(), acks="all", linger_ms=5
    )
    await producer.start()
    produced: dict[str, float] = {}
    try:
        futures = []
        for command in batch:
            key, value, headers = command_record(command)
            futures.append(
                await producer.send(settings.topic_commands, value, key=key, headers=headers)
            )
        for command, future in zip(batch, futures, strict=True):
            await future
            produced[command.command_id] = time.time()
    finally:
        await producer.stop()
    return produced


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    """GET a JSON document."""
    async with session.get(url) as response:
        return await response.json()


async def wait_for_assignment(session: aiohttp.ClientSession, ports: list[int]) -> None:
    """Wait until the two workers split the command partitions between them."""
    async with asyncio.timeout(120):
        while True:
            health = [await get_json(session, f"http://127.0.0.1:{p}/writer/health") for p in ports]
            counts = [h["partitions"] for h in health]
            if sum(counts) == PARTITIONS and all(c > 0 for c in counts):
                print(f"partitions per worker: {counts}")
                return
            await asyncio.sleep(0.5)


async def wait_drained(session: aiohttp.ClientSession, fake_url: str, total: int) -> None:
    """Wait until the fake accepted every command, printing progress."""
    async with asyncio.timeout(600):
        while True:
            stats = await get_json(session, f"{fake_url}/_fake/stats")
            print(
                f"  accepted {stats['accepted_ids']}/{total}  statuses {stats['statuses']}",
                flush=True,
            )
            if stats["accepted_ids"] >= total:
                return
            await asyncio.sleep(10)


def report(calls: list[dict[str, Any]], produced: dict[str, float]) -> bool:
    """Print the per-window table and the figures; return whether the run passes."""
    windows: dict[int, list[dict[str, Any]]] = {}
    for call in calls:
        windows.setdefault(call["window"], []).append(call)
    print(f"\n{'window start (UTC)':>20} {'calls':>6} {'202':>6} {'429':>5} {'limit':>6}")
    for window, items in sorted(windows.items()):
        stamp = time.strftime("%H:%M:%S", time.gmtime(window * 10))
        ok = sum(1 for c in items if c["status"] == 202)
        limited = sum(1 for c in items if c["status"] == 429)
        print(f"{stamp:>20} {len(items):>6} {ok:>6} {limited:>5} {LIMIT:>6}")
    full = [len(v) for _, v in sorted(windows.items())][1:-1]
    used = statistics.mean(full) / LIMIT if full else 0.0
    rate_limited = sum(1 for c in calls if c["status"] == 429)
    latencies = sorted(c["at"] - produced[c["command_id"]] for c in calls if c["status"] == 202)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    print(f"\n429 responses: {rate_limited}")
    mean = statistics.mean(full) if full else 0.0
    print(f"budget used in saturated windows: {used:.1%} (mean {mean:.0f} of {LIMIT})")
    print(f"produced -> accepted: p50 {p50:.1f} s, p99 {p99:.1f} s (backlog-bound at saturation)")
    passed = rate_limited == 0 and used >= 0.9
    print("PASS" if passed else "FAIL")
    return passed


async def main(count: int, contacts: int, bootstrap: str) -> int:
    """Run the benchmark and return the exit status."""
    run, fake_port = uuid.uuid4().hex[:8], free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    settings = bench_settings(bootstrap, fake_url, run)
    await ensure_topics(settings)
    logs = REPO / "var" / "bench" / run
    logs.mkdir(parents=True, exist_ok=True)
    fake = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [
            sys.executable,
            "-m",
            "dev.fakes.intercom",
            "--port",
            str(fake_port),
            "--limit",
            str(LIMIT),
        ],
        cwd=REPO,
    )
    ports = [free_port(), free_port()]
    workers = [
        Process(
            "writer",
            settings.model_copy(
                update={"writer_web_port": port, "writer_datadir": str(logs / f"w{port}")}
            ),
            logs / f"worker-{port}.log",
        ).start()
        for port in ports
    ]
    try:
        for worker, port in zip(workers, ports, strict=True):
            await worker.wait_http(port, "/writer/health")
        async with aiohttp.ClientSession() as session:
            await wait_for_assignment(session, ports)
            print(f"producing {count} commands over {contacts} contacts ...")
            produced = await produce(settings, commands(count, contacts))
            await wait_drained(session, fake_url, count)
            calls = await get_json(session, f"{fake_url}/_fake/calls")
        return 0 if report(calls, produced) else 1
    finally:
        for worker in workers:
            worker.kill()
        fake.terminate()
        fake.wait(timeout=10)
        print(f"worker logs: {logs}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(main(args.commands, args.contacts, args.bootstrap)))
    finally:
        asyncio.run(delete_bench_topics(args.bootstrap))
