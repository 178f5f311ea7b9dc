"""The processes' event loop, garbage collector, consumer assignment and flow control."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import faust
import uvloop


def use_uvloop() -> None:
    """Make uvloop the event loop of what starts next (faust's `-L uvloop` does the same).

    faust creates its loop lazily from the policy, so this must run before the worker starts;
    faust's own event path (wait_first, sleep(0)) costs a quarter less on uvloop.
    """
    if not isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy):
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def worker(app: faust.App, loglevel: str) -> faust.Worker:
    """Return faust's worker for the app, without its start-up spinner, start-up objects frozen.

    With a log level of WARNING or above, faust's spinner sets the root logger to DEBUG for the
    life of the process (`Worker._setup_spinner_handler`), so every `log.debug` of aiokafka and
    faust builds a record: a quarter of the writer's busy samples at 100 notifications/s.
    """
    built = faust.Worker(app, loglevel=loglevel, redirect_stdouts=False)
    built.spinner = None
    freeze_startup_objects()
    return built


def freeze_startup_objects() -> None:
    """Move what exists before the process starts consuming out of the collector's reach.

    Modules, classes, schemas and the app live as long as the process, yet every full
    collection scanned them: 105k objects and 60-200 ms pauses in the worker, 134k objects and
    105-126 ms in the writer, whose event loop stopped for as long (docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()


def assigned_partitions(app: faust.App, topic: str) -> int:
    """Return how many partitions of the topic the consumer holds (-1 while unknown)."""
    try:
        assigned = app.consumer.assignment()
    except Exception:  # noqa: BLE001 - not started, or rebalancing: the caller keeps its figure
        return -1
    return sum(1 for tp in assigned if tp.topic == topic)


def flow_active(app: faust.App) -> bool:
    """Whether faust lets records flow (False while a rebalance suspends the streams)."""
    return bool(app.flow_control.is_active())


def forget_unacked(app: faust.App, message: Any) -> None:
    """Stop faust waiting for a record whose job was dropped when its partition was revoked.

    faust's rebalance waits (`Consumer.wait_empty`, no timeout) until every record it handed
    out is acked or garbage: a record not acked yet whose object faust itself still holds (its
    stream iterator keeps the last one) would stall the rebalance for good. It is not acked,
    so its offset is not committed; the partition's next owner reads it again.
    """
    app.consumer.unacked.discard(message)
