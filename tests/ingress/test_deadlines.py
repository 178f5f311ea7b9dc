"""Bounded waits under one timer: settled futures wake at once, overdue waits end with False."""

from __future__ import annotations

import asyncio

from ingress.deadlines import Deadlines


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_settled_future_wakes_its_waiter_with_true() -> None:
    """A future that settles (result or error) before its deadline gives True."""
    deadlines, loop = Deadlines(0.2, Clock()), asyncio.get_running_loop()
    ok, failed = loop.create_future(), loop.create_future()
    waits = [asyncio.create_task(deadlines.wait(future)) for future in (ok, failed)]
    ok.set_result(None)
    failed.set_exception(RuntimeError("refused"))
    assert await asyncio.wait_for(asyncio.gather(*waits), timeout=5) == [True, True]
    assert isinstance(failed.exception(), RuntimeError)


async def test_an_overdue_wait_ends_with_false_and_leaves_the_future_pending() -> None:
    """Once the clock passes the deadline the waiter gets False; the future itself is untouched."""
    clock = Clock()
    deadlines = Deadlines(0.2, clock)
    future = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(deadlines.wait(future))
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.now += 0.3
    assert await asyncio.wait_for(waiting, timeout=5) is False
    assert not future.done()


async def test_deadlines_end_in_order_and_only_when_due() -> None:
    """A later wait is still running when an earlier one has expired."""
    clock = Clock()
    deadlines = Deadlines(0.2, clock)
    loop = asyncio.get_running_loop()
    first = asyncio.create_task(deadlines.wait(loop.create_future()))
    await asyncio.sleep(0)
    clock.now += 0.15
    second = asyncio.create_task(deadlines.wait(loop.create_future()))
    await asyncio.sleep(0)
    clock.now += 0.1
    assert await asyncio.wait_for(first, timeout=5) is False
    assert not second.done()
    clock.now += 0.2
    assert await asyncio.wait_for(second, timeout=5) is False


async def test_a_cancelled_wait_does_not_cancel_the_future() -> None:
    """Cancelling the waiting request leaves the Kafka future for the spool drainer."""
    deadlines = Deadlines(0.2, Clock())
    future = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(deadlines.wait(future))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert not future.cancelled()
    future.set_result(None)
