"""The worker's own per-notification path alone: CPU µs a notification in a warm loop.

The pipeline (verify, parse, dedup, route, rules, handlers, projections, output records) over
dict tables and publishers that acknowledge at once: no Kafka, no faust, no RocksDB. It shows
what our code costs and whether a change to it shrinks that, without the noise of the whole
worker (which runs the same code about twice as slowly, its caches shared with faust, the
consumer thread and RocksDB). `make bench-pipeline` prints it; run alone:
`python dev/bench/own_path.py [COUNT]`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

from dev.bench.notifications import SECRET, record
from intercom_stream import logs
from intercom_stream.settings import Settings
from stream_app.app import build_router
from stream_app.dedup import Deduplicator
from stream_app.metrics import WorkerMetrics
from stream_app.pipeline import Pipeline
from stream_app.ports import Publish
from stream_app.sink import OutputSink
from stream_app.source import Source

WARM_UP = 2_000
ROUNDS = 3


async def acknowledged(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
    """Publish nothing; return an acknowledgement that is already done."""
    ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    ack.set_result(None)
    return ack


async def no_dead_letters(key: bytes | None, value: bytes, headers: Any) -> None:
    """Fail loudly: the benchmark's notifications are all valid."""
    raise AssertionError("a benchmark notification was dead-lettered")


def pipeline() -> tuple[Pipeline, Deduplicator]:
    """Return the worker's pipeline over dicts, with the shipped rules and handlers."""
    settings = Settings.from_env({"INTERCOM_CLIENT_SECRET": SECRET})
    events: dict[str, Publish] = {"conversations": acknowledged, "contacts": acknowledged}
    sink = OutputSink(acknowledged, events, {}, {})
    built = Pipeline(
        router=build_router(settings),
        sink=sink,
        send_dead_letter=no_dead_letters,
        metrics=WorkerMetrics(),
        secrets=settings.client_secrets(),
    )
    return built, Deduplicator({}, settings.dedup_ttl_seconds)


def sources(count: int, first: int = 0) -> list[Source]:
    """Return `count` notification records as the worker reads them."""
    found = []
    for n in range(first, first + count):
        key, value, headers = record(n, received_at_ms=1)
        found.append(Source("intercom.notifications", n % 8, n, key, value, tuple(headers), 1))
    return found


async def measure(count: int) -> float:
    """Return the median CPU µs a notification over ROUNDS rounds of `count`, after a warm-up."""
    handle, dedup = pipeline()
    for source in sources(WARM_UP):
        await handle.handle(source, dedup)
    rounds = []
    for r in range(ROUNDS):
        batch = sources(count, WARM_UP + r * count)
        started = time.process_time()
        for source in batch:
            await handle.handle(source, dedup)
        rounds.append((time.process_time() - started) / count * 1e6)
    return statistics.median(rounds)


def main() -> None:
    """Print our path's CPU µs a notification."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    logs.configure("info")  # as the worker runs: debug lines are filtered, not rendered
    figure = asyncio.run(measure(count))
    print(f"our path alone, in-process (dict tables, no Kafka): {figure:.0f} µs a notification")


if __name__ == "__main__":
    main()
