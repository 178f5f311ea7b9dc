"""Pipeline benchmark parts timed on the clock: latency at a paced rate, dedup recovery."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from dev.bench.common import (
    Stopwatch,
    bench_settings,
    produce_many,
    read_until,
    start_process,
    stop_process,
)
from dev.bench.notifications import SECRET, record
from intercom_stream.settings import Settings

DEDUP_IDS = int(os.environ.get("BENCH_DEDUP_IDS", "1000000"))
LATENCY_RATE = int(os.environ.get("BENCH_LATENCY_RATE", "1000"))
LATENCY_SECONDS = 10
# Notifications sent before the paced load, one for each of 32 resources: every partition's
# actor then has handled its first record (which reads the group's offsets from Kafka).
WARM_UP = 32


async def latency(tmp: Path) -> None:
    """Paced 1,000 notifications/s; p50/p99 from ingress receipt to the handler's command."""
    from stream_app.rules import command_id

    settings = await bench_settings("latency", SECRET, worker_datadir=str(tmp / "w2"))
    received: dict[str, int] = {}
    latencies: list[int] = []
    worker = start_process("worker", settings, tmp / "latency.log")
    try:
        await wait_ready(settings, tmp / "latency.log")
        total = LATENCY_RATE * LATENCY_SECONDS
        reader = asyncio.create_task(
            read_until(
                settings.kafka_bootstrap_servers,
                settings.topic_commands,
                lambda count: count >= total + WARM_UP,  # the warm-up's commands come first
                lambda rec: note_latency(rec, received, latencies),
            )
        )
        await paced_produce(settings, total, received, command_id)
        await reader
    finally:
        stop_process(worker)
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"ingress->command latency at {LATENCY_RATE}/s: p50 {quantiles[49]:.0f} ms, "
        f"p99 {quantiles[98]:.0f} ms, max {max(latencies)} ms ({len(latencies)} samples)"
    )


def note_latency(rec: Any, received: dict[str, int], latencies: list[int]) -> None:
    """Record receipt-to-command latency for a paced notification's command."""
    sent = received.get(orjson.loads(rec.value)["command_id"])
    if sent is not None:
        latencies.append(rec.timestamp - sent)


async def paced_produce(
    settings: Settings, total: int, received: dict[str, int], command_id: Any
) -> None:
    """Produce `total` notifications at LATENCY_RATE per second, each stamped with its send time."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    start = time.monotonic()
    try:
        for n in range(total):
            delay = start + n / LATENCY_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load, not synchronising
            now_ms = int(time.time() * 1000)
            received[command_id(f"notif-{n}", "conversation-closed")] = now_ms
            key, value, hdrs = record(n, now_ms)
            await producer.send(settings.topic_notifications, value=value, key=key, headers=hdrs)
        await producer.flush()
    finally:
        await producer.stop()


async def wait_ready(settings: Settings, log: Path, limit_seconds: float = 120.0) -> float:
    """Produce WARM_UP notifications and wait for their commands; return seconds taken."""
    first = 10_000_000 + int(time.time() * 1000) % 1_000_000 // 5000 * 5000
    with Stopwatch() as watch:
        await produce_many(
            settings.kafka_bootstrap_servers,
            settings.topic_notifications,
            (record(first + n) for n in range(WARM_UP)),
        )
        try:
            await read_until(
                settings.kafka_bootstrap_servers,
                settings.topic_commands,
                lambda count: count >= WARM_UP,
                timeout=limit_seconds,
            )
        except TimeoutError:
            raise SystemExit(f"worker never became ready; see {log}") from None
    return watch.seconds


async def recovery(tmp: Path) -> None:
    """Time from worker start to first notification handled: empty table, 1M ids cold, warm."""
    from intercom_stream.topics import TopicSpec, ensure_topics

    empty = await bench_settings("recovery-empty", SECRET, worker_datadir=str(tmp / "r0"))
    baseline = await time_to_first(empty, tmp / "r0.log")
    settings = await bench_settings("recovery", SECRET, worker_datadir=str(tmp / "r1"))
    changelog = f"{settings.worker_app_id}-dedup-changelog"
    await ensure_topics(settings, [TopicSpec(changelog, 8, 1, {"cleanup.policy": "compact"})])
    stamp = str(int(time.time() * 1000)).encode()
    await produce_many(
        settings.kafka_bootstrap_servers,
        changelog,
        # faust writes changelog keys JSON-encoded (`"notif-1"`), whatever the table's schema;
        # raw keys made recovery fail on every record and never finish.
        ((orjson.dumps(f"notif-old-{n}"), stamp, []) for n in range(DEDUP_IDS)),
    )
    cold = await time_to_first(settings, tmp / "r1.log")
    settings_warm = settings.model_copy(update={"topic_commands": settings.topic_commands})
    warm = await time_to_first(settings_warm, tmp / "r1-warm.log", expect=2)
    print(
        f"dedup recovery with {DEDUP_IDS:,} ids: cold start (changelog replay) {cold:.1f}s, "
        f"restart with RocksDB kept {warm:.1f}s; empty-table start {baseline:.1f}s"
    )


async def time_to_first(settings: Settings, log: Path, expect: int = 1) -> float:
    """Start a worker and return seconds until it handled one new notification."""
    started = time.perf_counter()
    worker = start_process("worker", settings, log)
    try:
        key, value, hdrs = record(20_000_000 + expect)
        await produce_many(
            settings.kafka_bootstrap_servers, settings.topic_notifications, [(key, value, hdrs)]
        )
        await read_until(
            settings.kafka_bootstrap_servers, settings.topic_commands, lambda c: c >= expect
        )
        return time.perf_counter() - started
    finally:
        stop_process(worker)
