"""Benchmark: the worker pipeline against a bare aiokafka consume->produce loop, in one run.

Prints notifications/s for both and their ratio, the ratio against an empty faust agent (on
asyncio and on uvloop, as the worker runs), the worker's RSS through the run and its peak,
records per produce request, the CPU per notification split by a profile (ours, faust, the
RocksDB store, the producer), p99 latency from ingress receipt to the command at 1,000
notifications/s, and dedup recovery time with 1M ids.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dev.bench.common import (
    REPO,
    Stopwatch,
    bench_settings,
    delete_bench_topics,
    free_port,
    produce_many,
    read_until,
    start_process,
    stop_process,
)
from dev.bench.notifications import SECRET, record
from dev.bench.pipeline_timing import latency, recovery
from dev.bench.worker_watch import (
    Window,
    cpu_seconds,
    produce_requests,
    profile,
    rss_mib,
    worker_command,
)
from intercom_stream.settings import Settings

COUNT = int(os.environ.get("BENCH_PIPELINE_COUNT", "100000"))
PROFILE_SECONDS = 8.0


async def run_worker_until(settings: Settings, expected: int, tmp: Path) -> str:
    """Run a worker until `expected` commands exist; return its figures as printed lines.

    The first PROFILE_SECONDS after a warm-up are profiled (py-spy, CPU from /proc); the rate is
    measured after that window, so the sampling does not slow the figure down.
    """
    stamps: list[int] = []
    log = tmp / "worker.log"
    worker = start_process("worker", settings, log, worker_command())
    try:
        reader = asyncio.create_task(
            read_until(
                settings.kafka_bootstrap_servers,
                settings.topic_commands,
                lambda count: count >= expected,
                lambda rec: stamps.append(rec.timestamp),
            )
        )
        await until(lambda: len(stamps) >= expected // 20, reader)
        cpu, handled = cpu_seconds(worker.pid), len(stamps)
        counts = await profile(worker.pid, PROFILE_SECONDS, tmp / "profile.txt")
        window = Window(cpu_seconds(worker.pid) - cpu, len(stamps) - handled)
        measured_from, rss = len(stamps), []
        for quarter in (2, 3, 4):
            await until(lambda q=quarter: len(stamps) >= expected * q // 4 - 1, reader)
            rss.append(rss_mib(worker.pid))
        await reader
        peak, (requests, records) = rss_mib(worker.pid, "VmHWM"), produce_requests(log)
    finally:
        stop_process(worker)
    return "\n".join(
        [
            f"pipeline (verify+dedup+route+rules+projections+command+event): "
            f"{rate(stamps[measured_from:]):,.0f} notifications/s",
            f"worker RSS at 50/75/100 % of the run: {', '.join(f'{r:.0f}' for r in rss)} MiB "
            f"({rss[-1] - rss[0]:+.0f} MiB over the second half); peak {peak:.0f} MiB",
            f"produce requests: {requests:,} for {records:,} records "
            f"({records / max(1, requests):.1f} records per request)",
            f"profile ({PROFILE_SECONDS:.0f} s, {window.handled:,} notifications): "
            + window.split(counts),
        ]
    )


async def until(done: Any, reader: asyncio.Task[int]) -> None:
    """Wait until done() holds; fail if the reader ended first."""
    while not done():
        if reader.done():
            reader.result()
            return
        await asyncio.sleep(0.05)  # polling a counter the reader task advances


def rate(stamps: list[int]) -> float:
    """Return records per second between the first and the last record timestamp."""
    span = (max(stamps) - min(stamps)) / 1000
    return len(stamps) / span if span > 0 else float("inf")


async def bare_loop(settings: Settings, expected: int) -> float:
    """Consume the notifications and produce each value unchanged; return records/s."""
    from intercom_stream.topics import TopicSpec, ensure_topics

    target = settings.topic_commands + ".bare"
    await ensure_topics(settings, [TopicSpec(target, settings.topic_partitions, 1)])
    consumer = AIOKafkaConsumer(
        settings.topic_notifications,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.worker_app_id + "-bare",
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await consumer.start()
    await producer.start()
    done, started = 0, 0.0
    try:
        while done < expected:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            started = started or time.perf_counter()
            for records in batch.values():
                for rec in records:
                    await producer.send(target, value=rec.value, key=rec.key)
                    done += 1
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()
    return done / (time.perf_counter() - started)


async def throughput(tmp: Path) -> None:
    """Pipeline vs. bare loop over the same COUNT pre-produced notifications."""
    settings = await bench_settings("pipeline", SECRET, worker_datadir=str(tmp / "w1"))
    with Stopwatch() as produced:
        await produce_many(
            settings.kafka_bootstrap_servers,
            settings.topic_notifications,
            (record(n) for n in range(COUNT)),
        )
    print(f"pre-produced {COUNT} notifications in {produced.seconds:.1f}s")
    figures = await run_worker_until(settings, COUNT, tmp)
    print(figures)
    worker_rate = float(re.findall(r"([\d,]+) notifications/s", figures)[0].replace(",", ""))
    bare_rate = await bare_loop(settings, COUNT)
    print(f"bare aiokafka consume->produce loop: {bare_rate:,.0f} records/s")
    print(f"ratio pipeline/bare loop: {worker_rate / bare_rate:.2f}")
    floors = (
        ("doing nothing", "", "asyncio", False, False),
        ("doing nothing", "", "uvloop", False, False),
        ("sending each record on", ".floor-out", "asyncio", False, False),
        ("appending 4 records an event to the worker's batches", ".floor-b", "uvloop", True, False),
        ("doing nothing, on the worker's hand-over and monitor", "", "uvloop", False, True),
    )
    for label, out, loop, batches, tuned in floors:
        topic = out and settings.topic_commands + out
        floor = await faust_floor(settings, topic, tmp, loop, batches, tuned)
        ratio = f"; ratio pipeline/this floor {worker_rate / floor:.2f}" if not out else ""
        print(f"faust floor ({loop}), an agent {label}: {floor:,.0f} records/s{ratio}")
    own = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "dev/bench/own_path.py"), stdout=asyncio.subprocess.PIPE
    )
    print((await own.communicate())[0].decode().strip())


async def faust_floor(
    settings: Settings, out: str, tmp: Path, loop: str, batches: bool = False, tuned: bool = False
) -> float:
    """Run dev/bench/faust_floor.py over the notifications; return its records/s."""
    from intercom_stream.topics import TopicSpec, ensure_topics

    if out:
        await ensure_topics(settings, [TopicSpec(out, settings.topic_partitions, 1)])
    app_id = (
        f"{settings.worker_app_id}-floor-{loop}{'-send' if out else ''}{'-b' if batches else ''}"
        f"{'-tuned' if tuned else ''}"
    )
    env = {
        **os.environ,
        "FLOOR_BROKER": settings.kafka_bootstrap_servers,
        "FLOOR_TOPIC": settings.topic_notifications,
        "FLOOR_OUT": out,
        "FLOOR_COUNT": str(COUNT),
        "FLOOR_APP": app_id,
        "FLOOR_PORT": str(free_port()),
        "FLOOR_DATADIR": str(tmp / app_id),
        "FLOOR_LOOP": loop,
        "FLOOR_BATCHES": "1" if batches else "",
        "FLOOR_TUNED": "1" if tuned else "",
    }
    # info, as the worker runs: at warn faust's spinner sets the root logger to DEBUG.
    script = [sys.executable, str(REPO / "dev/bench/faust_floor.py"), "worker", "-l", "info"]
    proc = await asyncio.create_subprocess_exec(
        *script, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
    # faust routes print() through its logger, so the figure arrives inside a log line.
    found = re.findall(r"FLOOR (\d+)", output.decode(errors="replace"))
    if not found:
        raise SystemExit(f"the faust floor run printed no figure: {output.decode()[-500:]}")
    return float(found[-1])


async def main() -> None:
    """Run every part of the benchmark against the local broker."""
    tmp = REPO / "var" / "bench" / f"pipeline-{int(time.time())}"
    tmp.mkdir(parents=True)
    print(f"worker logs and data: {tmp}")
    parts = os.environ.get("BENCH_PIPELINE_PARTS", "throughput,latency,recovery").split(",")
    try:
        for part in (throughput, latency, recovery):
            if part.__name__ in parts:
                await part(tmp)
    finally:
        await delete_bench_topics(Settings.from_env(os.environ).bootstrap_servers())


if __name__ == "__main__":
    asyncio.run(main())
