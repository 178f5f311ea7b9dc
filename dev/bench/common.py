"""Shared pieces of the benchmarks: settings, topics, fast producing and counting on real Kafka."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from intercom_stream.settings import Settings, namespaced_topics
from intercom_stream.topics import ensure_topics

REPO = Path(__file__).resolve().parents[2]


BENCH_MARKER = "bench-"


async def delete_bench_topics(bootstrap: str | list[str]) -> None:
    """Delete every benchmark topic (faust's changelogs too) unless KEEP_BENCH_TOPICS is set.

    Every run creates topics of its own; kept, they pile up into thousands of partitions, which
    slows the broker down and then makes its restart outlast the start timeout. Benchmarks run
    one at a time (`make bench`): this also deletes the topics of a benchmark running beside it.
    A failure is reported, never raised, so that it cannot hide the benchmark's own result.
    """
    import os

    from dev.support.topics import delete_topics

    if os.environ.get("KEEP_BENCH_TOPICS"):
        return
    try:
        await delete_topics(bootstrap, lambda name: name.startswith(BENCH_MARKER))
    except Exception as exc:  # noqa: BLE001 - cleanup must not mask the benchmark's result
        print(f"could not delete the benchmark topics: {exc!r}")


async def bench_settings(tag: str, secret: str, partitions: int = 8, **extra: Any) -> Settings:
    """Return settings with unique topics for one benchmark run, topics created."""
    run = f"{BENCH_MARKER}{tag}-{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env(
        os.environ,
        intercom_client_secret=secret,
        **namespaced_topics(run),
        worker_app_id=run,
        topic_partitions=partitions,
        worker_web_port=free_port(),
        **extra,
    )
    await ensure_topics(settings)
    return settings


def free_port() -> int:
    """Return a TCP port that is free on loopback right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def produce_many(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> int:
    """Produce records with batching and wait for every acknowledgement; return the count."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    count, pending = 0, []
    try:
        for key, value, headers in records:
            pending.append(await producer.send(topic, value=value, key=key, headers=headers))
            count += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[int], bool],
    on_record: Callable[[Any], None] = lambda record: None,
    timeout: float = 600.0,
) -> int:
    """Count records of a topic from the beginning until done(count); return the count."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    count = 0
    try:
        async with asyncio.timeout(timeout):
            while not done(count):
                batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
                for records in batch.values():
                    for record in records:
                        on_record(record)
                    count += len(records)
    finally:
        await consumer.stop()
    return count


class Stopwatch:
    """Measures wall time of a block."""

    def __enter__(self) -> Stopwatch:
        """Start timing."""
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop timing."""
        self.seconds = time.perf_counter() - self.start


def settings_env(settings: Settings) -> dict[str, str]:
    """Return this process's environment overlaid with the settings."""
    import os

    return {**os.environ, **settings.environment()}


def start_process(
    command: str, settings: Settings, log_path: Path, program: list[str] | None = None
) -> Any:
    """Start `intercom-stream <command>` (or `program`) with the settings; output to log_path."""
    import subprocess
    import sys

    with log_path.open("ab") as log:
        return subprocess.Popen(
            program or [sys.executable, "-m", "intercom_stream", command],
            env=settings_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )


def stop_process(process: Any, sig: int = 15) -> None:
    """Signal a child's process group and wait for it."""
    import os

    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a worker slow to stop is killed
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
