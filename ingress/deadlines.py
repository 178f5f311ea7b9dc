"""Bounded waits for many futures under one timer, cheaper than asyncio.timeout per request.

Every webhook waits for its Kafka acknowledgement for at most the produce timeout. The timeout is
the same for all, so deadlines arrive in order: a queue swept by one timer ends the overdue waits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

TICK_SECONDS = 0.05


def _wake(waiter: asyncio.Future[bool], _: asyncio.Future[Any]) -> None:
    """Tell a waiter that its future settled."""
    if not waiter.done():
        waiter.set_result(True)


class Deadlines:
    """Waits for futures for a fixed time; a waiter gets False once its deadline passed."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Set the timeout every wait shares."""
        self._timeout = timeout
        self._tick = min(TICK_SECONDS, timeout / 2)
        self._clock = clock
        self._queue: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def wait(self, future: asyncio.Future[Any]) -> bool:
        """Return True once the future settles, or False if the timeout passes first."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        future.add_done_callback(partial(_wake, waiter))
        self._queue.append((self._clock() + self._timeout, waiter))
        if self._timer is None:
            self._timer = loop.call_later(self._tick, self._sweep)
        return await waiter

    def _sweep(self) -> None:
        """End the overdue waits at the head of the queue and sweep again while any remain."""
        now, queue = self._clock(), self._queue
        while queue and (queue[0][1].done() or queue[0][0] <= now):
            _, waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(False)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._tick, self._sweep) if queue else None
