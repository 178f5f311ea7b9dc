"""uvloop, the consumer's assignment and its flow control, as stream_app.faust.runtime reads."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import faust
import pytest
import uvloop
from faust.transport.consumer import Consumer
from faust.types import TP

from stream_app.faust.runtime import assigned_partitions, flow_active, use_uvloop, worker


@pytest.fixture
def policy() -> Iterator[None]:
    """Restore the event loop policy the test process had."""
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


def test_use_uvloop_makes_new_loops_uvloop(policy: None) -> None:
    """Loops created afterwards (faust's included) are uvloop's; a second call changes nothing."""
    use_uvloop()
    use_uvloop()
    loop = asyncio.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """Restore the root logger's level and handlers after a worker configured logging."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the objects `worker` froze back to the collector afterwards."""
    yield
    gc.unfreeze()


@pytest.mark.parametrize("level", ["warning", "error"])
def test_worker_leaves_debug_records_unbuilt_at_quiet_levels(
    root_logger: logging.Logger, unfrozen: None, level: str
) -> None:
    """faust's spinner would set the root logger to DEBUG; without it the level stays asked."""
    built = worker(faust.App("runtime-logging-test"), level)
    built._setup_logging()  # what faust's worker runs first when it executes
    assert root_logger.level == logging.getLevelName(level.upper())
    assert not logging.getLogger("aiokafka.consumer.fetcher").isEnabledFor(logging.DEBUG)


def test_faust_worker_spinner_is_what_sets_debug(root_logger: logging.Logger) -> None:
    """The assumption `worker` rests on: faust's own worker, spinner kept, makes DEBUG live."""
    faust.Worker(faust.App("runtime-spinner-test"), loglevel="warning")._setup_logging()
    assert root_logger.level == logging.DEBUG


def app_assigned(result: Any) -> Any:
    """Return an app-shaped object whose consumer's assignment() returns or raises `result`."""

    def assignment() -> Any:
        if isinstance(result, Exception):
            raise result
        return result

    return SimpleNamespace(consumer=SimpleNamespace(assignment=assignment))


def test_assigned_partitions_counts_the_topic_only() -> None:
    """Partitions of other topics (a changelog) are not counted."""
    tps = {TP(t, p) for t, p in [("c", 0), ("c", 3), ("x", 0)]}
    assert assigned_partitions(app_assigned(tps), "c") == 2


def test_assigned_partitions_is_unknown_while_the_consumer_cannot_say() -> None:
    """Before the consumer started, or mid-rebalance, the answer is -1."""
    assert assigned_partitions(app_assigned(RuntimeError("not started")), "c") == -1


def test_faust_consumers_have_the_assignment_method() -> None:
    """faust's Consumer answers `assignment()`, the call the writer's share relies on."""
    assert callable(Consumer.assignment)


async def test_flow_control_is_active_until_a_rebalance_suspends_it() -> None:
    """faust's flow control event: active when resumed, inactive when suspended."""
    app = faust.App("flow", store="memory://", autodiscover=False)
    app.flow_control.resume()
    assert flow_active(app)
    app.flow_control.suspend()
    assert not flow_active(app)


def test_worker_freezes_what_exists_before_it_runs(
    root_logger: logging.Logger, unfrozen: None
) -> None:
    """Objects alive when the worker is built are out of the collector's generations."""
    marker = [object()]  # a container the collector tracks
    assert any(tracked is marker for tracked in gc.get_objects())
    worker(faust.App("runtime-freeze-test"), "warning")
    assert gc.get_freeze_count() > 0
    assert not any(tracked is marker for tracked in gc.get_objects())
