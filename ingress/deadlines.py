"""Deadlines for many pending sends under one timer, cheaper than asyncio.timeout per request.

Every webhook waits for its Kafka acknowledgement for at most the produce timeout. The timeout is
the same for all, so deadlines fall due in order: a queue swept by one timer finds the overdue
sends and hands each to its `on_overdue` callback (the producer's `detach`, which wakes the
request while the send goes on). The request awaits its send's future directly: no extra future
or callback per request.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

TICK_SECONDS = 0.05
Overdue = Callable[[asyncio.Future[Any]], object]


class Deadlines:
    """Calls `on_overdue(future)` for each watched future still pending after the timeout."""

    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        """Set the timeout every watched future shares."""
        self._timeout = timeout
        self._tick = min(TICK_SECONDS, timeout / 2)
        self._clock = clock
        self._queue: deque[tuple[float, asyncio.Future[Any], Overdue]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, future: asyncio.Future[Any], on_overdue: Overdue) -> None:
        """Call on_overdue(future) if the future is still pending once the timeout has passed."""
        self._queue.append((self._clock() + self._timeout, future, on_overdue))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._tick, self._sweep)

    def _sweep(self) -> None:
        """Settle the overdue futures at the head of the queue; sweep again while any remain."""
        now, queue = self._clock(), self._queue
        while queue and (queue[0][1].done() or queue[0][0] <= now):
            _, future, on_overdue = queue.popleft()
            if not future.done():
                on_overdue(future)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._tick, self._sweep) if queue else None
