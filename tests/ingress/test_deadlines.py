"""Deadlines under one timer: settled futures are dropped, overdue ones handed on, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from ingress.deadlines import Deadlines
from tests.fakes.clock import FakeClock
from tests.support.waiting import until


class Overdue:
    """Records the futures handed over as overdue, resolving each as the producer would."""

    def __init__(self) -> None:
        self.seen: list[asyncio.Future[Any]] = []

    def __call__(self, future: asyncio.Future[Any]) -> None:
        self.seen.append(future)
        future.set_exception(TimeoutError("overdue"))


async def test_futures_settled_in_time_are_never_handed_over() -> None:
    """A future that settles (result, error or cancellation) before its deadline is dropped."""
    clock, overdue = FakeClock(1000.0), Overdue()
    deadlines, loop = Deadlines(0.2, clock), asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(4)]
    for future in futures:
        deadlines.watch(future, overdue)
    futures[0].set_result(None)
    futures[1].set_exception(RuntimeError("refused"))
    futures[2].cancel()
    clock.advance(1.0)
    # The last one, still pending, is handed over only after the sweep passed the three before it.
    await until(lambda: overdue.seen == [futures[3]], "the pending future to be handed over", 5)
    assert isinstance(futures[1].exception(), RuntimeError)


async def test_an_overdue_future_is_handed_over_once_its_deadline_passed() -> None:
    """A pending future is untouched before its deadline and handed over once, after it."""
    clock, overdue = FakeClock(1000.0), Overdue()
    deadlines = Deadlines(0.2, clock)
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    deadlines.watch(future, overdue)
    await asyncio.sleep(0)
    assert overdue.seen == []
    assert not future.done()
    clock.advance(0.3)
    await until(lambda: overdue.seen == [future], "the overdue future to be handed over", 5)
    assert isinstance(future.exception(), TimeoutError)


async def test_deadlines_fall_due_in_order_and_only_when_due() -> None:
    """A later future is still pending when an earlier one is overdue."""
    clock, overdue = FakeClock(1000.0), Overdue()
    deadlines, loop = Deadlines(0.2, clock), asyncio.get_running_loop()
    first: asyncio.Future[None] = loop.create_future()
    deadlines.watch(first, overdue)
    clock.advance(0.15)
    second: asyncio.Future[None] = loop.create_future()
    deadlines.watch(second, overdue)
    clock.advance(0.1)
    await until(lambda: overdue.seen == [first], "the first future to fall due", 5)
    assert not second.done()
    clock.advance(0.2)
    await until(lambda: overdue.seen == [first, second], "the second future to fall due", 5)
