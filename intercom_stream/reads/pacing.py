"""Keeps operator reads to a share of Intercom's per-window budget, so the writer keeps the rest.

Intercom counts calls per app in 10-second windows and reports `X-RateLimit-Limit`,
`-Remaining` and `-Reset` on every answer. A read may go when this reader has made fewer than
`floor(limit x share)` calls in the current window and the window is not spent (Remaining >
0); otherwise it waits for the window's reset. A 429 also waits for the reset. `limit` is the
smaller of the configured budget and the limit Intercom reports.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stream_app.writer.errors import RateHeaders

WINDOW_SECONDS = 10.0
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class ReadPacer:
    """Admits read calls within `share` of each window's limit."""

    budget: int
    share: float
    clock: Clock = time.time
    sleep: Sleep = asyncio.sleep
    limit: int | None = None
    remaining: int | None = None
    reset: float = 0.0
    spent: int = 0

    @property
    def cap(self) -> int:
        """Return how many calls this reader may make in one window (at least one)."""
        limit = min(self.budget, self.limit or self.budget)
        return max(1, math.floor(limit * self.share))

    async def admit(self) -> None:
        """Wait until a call is allowed, then count it."""
        self._roll()
        while self.spent >= self.cap or self.remaining == 0:
            await self.sleep(max(0.0, self.reset - self.clock()) + 0.01)
            self._roll()
        self.spent += 1

    def observe(self, rate: RateHeaders | None) -> None:
        """Take the window's limit, remaining calls and reset from an answer's headers."""
        if rate is None:
            return
        if rate.reset is not None and rate.reset > self.reset:
            self.reset, self.spent = rate.reset, min(self.spent, 1)
        self.limit = rate.limit if rate.limit is not None else self.limit
        self.remaining = rate.remaining

    def rate_limited(self, retry_after: float | None) -> None:
        """Wait for the reset after a 429."""
        self.reset = max(self.reset, retry_after or self.clock() + WINDOW_SECONDS)
        self.remaining = 0

    def _roll(self) -> None:
        """Start a new window once the reset has passed."""
        if self.reset == 0.0:
            self.reset = self.clock() + WINDOW_SECONDS
        elif self.clock() >= self.reset:
            self.reset, self.spent, self.remaining = self.reset + WINDOW_SECONDS, 0, None
            if self.clock() >= self.reset:
                self.reset = self.clock() + WINDOW_SECONDS
