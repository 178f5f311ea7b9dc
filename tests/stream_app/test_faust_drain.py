"""The consumer's eager hand-over (stream_app.faust.drain) and the faust internals it relies on."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer
from mode import Service

from stream_app.faust import drain
from stream_app.faust.declare import create_faust_app
from stream_app.faust.seek import SeekingConsumer, use_seeking_consumer


class CountingService(Service):
    """A mode Service, as faust's consumer is, counting the calls of its own `wait_first`."""

    faust_calls = 0

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        """Count the call, then wait as mode does."""
        self.faust_calls += 1
        return await super().wait_first(*coros, timeout=timeout)


class EagerService(drain.EagerHandOver, CountingService):
    """The mix-in over a counting Service."""


async def test_a_hand_over_that_does_not_wait_runs_at_once() -> None:
    """No task, no loop turn: a callback scheduled before the call has not run after it."""
    service, suspend, turned = EagerService(), asyncio.Event(), list[bool]()
    asyncio.get_running_loop().call_soon(turned.append, True)

    async def hand_over() -> int:
        return 7

    suspended: Any = suspend.wait()
    result = await service.wait_first(hand_over(), suspended)
    assert (result.results, result.stopped, service.faust_calls, turned) == ([7], False, 0, [])
    assert suspended.cr_frame is None  # closed, never left un-awaited


async def test_a_hand_over_that_waits_goes_on_in_faust_s_wait_first() -> None:
    """It runs to its first wait at once, then to its end inside mode's `wait_first`."""
    service, suspend = EagerService(), asyncio.Event()
    gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    steps = []

    async def hand_over() -> int:
        steps.append("started")
        value = await gate
        steps.append("resumed")
        return value * 2

    asyncio.get_running_loop().call_soon(gate.set_result, 21)
    result = await service.wait_first(hand_over(), suspend.wait())
    assert (42 in result.results, service.faust_calls, steps) == (True, 1, ["started", "resumed"])


async def test_suspension_abandons_a_hand_over_that_waits() -> None:
    """As in faust: the flow suspended while the hand-over waits cancels the hand-over."""
    service, suspend = EagerService(), asyncio.Event()
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    cancelled: asyncio.Future[bool] = loop.create_future()

    async def hand_over() -> None:
        try:
            await never
        except asyncio.CancelledError:
            cancelled.set_result(True)
            raise

    loop.call_soon(suspend.set)
    result = await service.wait_first(hand_over(), suspend.wait())
    assert result.results == [True]  # only the suspension finished
    assert await asyncio.wait_for(cancelled, timeout=5)


async def test_a_hand_over_that_fails_at_once_raises() -> None:
    """Its error reaches the drain loop, as faust's `wait_first` propagates it."""
    service, suspend = EagerService(), asyncio.Event()

    async def hand_over() -> None:
        raise KeyError("bad record")

    suspended: Any = suspend.wait()
    with pytest.raises(KeyError, match="bad record"):
        await service.wait_first(hand_over(), suspended)
    assert suspended.cr_frame is None


async def test_a_hand_over_that_fails_after_waiting_raises() -> None:
    """An error after the first wait comes out of faust's `wait_first`."""
    service, suspend = EagerService(), asyncio.Event()

    async def hand_over() -> None:
        await asyncio.sleep(0)
        raise KeyError("decode failed")

    with pytest.raises(KeyError, match="decode failed"):
        await service.wait_first(hand_over(), suspend.wait())
    assert service.faust_calls == 1


async def test_other_waits_go_to_faust_unchanged() -> None:
    """A `wait_first` that is not the drain loop's hand-over is mode's own."""
    service, first, second = EagerService(), asyncio.Event(), asyncio.Event()
    first.set()
    result = await service.wait_first(first.wait(), second.wait(), timeout=5)
    assert (result.results, service.faust_calls) == ([True], 1)


def new_app() -> faust.App:
    """Return an app with nothing registered, its consumer not created yet."""
    return faust.App("eager-hand-over", broker="kafka://127.0.0.1:9092", autodiscover=False)


def consumer_of(app: faust.App) -> Any:
    """Return the app's consumer, closing the loop its (never started) thread made."""
    consumer: Any = app.consumer
    consumer._thread.thread_loop.close()
    return consumer


def test_the_worker_s_consumer_hands_over_eagerly_and_keeps_its_base() -> None:
    """The mix-in goes on whatever consumer class the app has, the seeking consumer too."""
    app = new_app()
    use_seeking_consumer(app)
    drain.use_eager_hand_over(app)
    consumer = consumer_of(app)
    assert isinstance(consumer, drain.EagerHandOver)
    assert isinstance(consumer, SeekingConsumer)


def test_faust_s_drain_loop_hands_each_record_over_in_one_wait_first() -> None:
    """`_drain_messages` races `callback(message)` against `suspend_flow.wait()`, nothing else."""
    source = " ".join(inspect.getsource(Consumer._drain_messages).split())
    assert "await self.wait_first( callback(message), self.suspend_flow.wait() )" in source


async def test_the_drain_loop_s_call_is_recognised_on_a_real_consumer() -> None:
    """faust's `suspend_flow` is an asyncio Event, whose `wait()` the mix-in recognises."""
    consumer = consumer_of(new_app())

    async def hand_over() -> None:
        return None

    coros = (hand_over(), consumer.suspend_flow.wait())
    assert isinstance(consumer.suspend_flow, asyncio.Event)
    assert drain.is_hand_over(coros, None)
    assert not drain.is_hand_over(coros, 1.0)
    for coro in coros:
        coro.close()


def test_every_app_hands_records_over_eagerly(make_settings: Any, tmp_path: Path) -> None:
    """create_faust_app installs the mix-in, for the worker and the writer alike."""
    app = create_faust_app(make_settings(), "eager-test", 6067, str(tmp_path))
    assert issubclass(app.transport.Consumer, drain.EagerHandOver)
