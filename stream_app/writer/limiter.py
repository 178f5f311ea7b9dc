"""Paces Intercom calls to this instance's share of the app's per-window budget.

Three rules, all must allow a call (see docs/writer.md):
1. Sliding log: no interval of WINDOW + MARGIN seconds holds more than `share` calls, where
   share = floor(limit x fraction), limit = min(configured budget, X-RateLimit-Limit seen) and
   fraction = this instance's command partitions / all command partitions. Because any
   interval is covered, the server's aligned windows are never overrun whatever their phase.
2. Ground truth: while the server's current window lasts (now < X-RateLimit-Reset), this
   instance takes at most floor(Remaining x fraction) minus the calls it sent that the
   observed Remaining may not have counted yet.
3. Until this instance has seen the Remaining of the current server window, it keeps at most
   one call outstanding: the first answer of every window tells it what others already spent
   (this is what protects the budget while a rebalance moves partitions between instances).
4. After a 429, nothing is sent before X-RateLimit-Reset.

Replayed commands take only what live ones leave (`try_spare`): a call that may go at once,
while no live call is waiting, and that leaves more than a reserve of the share unspent.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from stream_app.writer.errors import RateHeaders

WINDOW_SECONDS = 10.0
MARGIN_SECONDS = 0.1  # absorbs network jitter and clock skew at window edges
MIN_PAUSE_SECONDS = 1.0  # after a 429 whose reset lies in the past (clock skew)
RECHECK_SECONDS = 0.005  # how soon a waiting call looks again for a new answer

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer(Protocol):
    """What the sender needs to pace its calls: the limiter, or the replay lane's view of it."""

    async def acquire(self) -> None:
        """Wait until a call is allowed and count it as sent."""

    def observe(self, rate: RateHeaders | None) -> None:
        """Count a call as answered and learn from its rate headers."""

    def block_until(self, reset: float | None) -> float:
        """Send nothing before `reset`; return the pause in seconds."""


@dataclass
class ServerWindow:
    """The latest X-RateLimit-Remaining seen for the server window ending at `reset`."""

    reset: float
    remaining: int


class RateLimiter:
    """Hands out permission to call Intercom, in arrival order, within the budget."""

    def __init__(
        self,
        budget: int,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        window: float = WINDOW_SECONDS,
        margin: float = MARGIN_SECONDS,
    ) -> None:
        """Start with the whole budget (fraction 1) and no server observation."""
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._span = window + margin
        self._margin = margin
        self._fraction = 1.0
        self._server_limit: int | None = None
        self._server: ServerWindow | None = None
        self._blocked_until = 0.0
        self._outstanding = 0  # calls sent and not answered yet
        self._since_observed = 0  # calls the last Remaining may not have counted
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    @property
    def share(self) -> int:
        """Return the calls this instance may make per window."""
        limit = min(self._budget, self._server_limit or self._budget)
        return max(1, math.floor(limit * self._fraction))

    @property
    def remaining(self) -> int | None:
        """Return the last X-RateLimit-Remaining seen, if any."""
        return self._server.remaining if self._server else None

    def used(self) -> int:
        """Return the calls sent within the last window span (what the share is spent on)."""
        now = self._clock()
        return sum(1 for sent in self._sent if sent > now - self._span)

    def headroom(self, now: float) -> int:
        """Return how many more calls the share and the server's Remaining allow right now."""
        while self._sent and self._sent[0] <= now - self._span:
            self._sent.popleft()
        room = self.share - len(self._sent)
        server = self._server
        if server and now < server.reset:
            room = min(room, math.floor(server.remaining * self._fraction) - self._since_observed)
        return room

    def try_spare(self, reserve: int) -> bool:
        """Count a call as sent if it may go now, no call waits, and `reserve` calls stay free."""
        now = self._clock()
        if self._lock.locked() or self.delay(now) > 0 or self.headroom(now) <= reserve:
            return False
        self._sent.append(now)
        self._outstanding += 1
        self._since_observed += 1
        return True

    def set_fraction(self, fraction: float) -> None:
        """Set this instance's part of the budget (its partitions / all partitions)."""
        self._fraction = min(1.0, max(0.0, fraction))

    async def acquire(self) -> None:
        """Wait until a call is allowed and count it as sent."""
        async with self._lock:
            while (delay := self.delay(self._clock())) > 0:
                await self._sleep(delay)
            self._sent.append(self._clock())
            self._outstanding += 1
            self._since_observed += 1

    def delay(self, now: float) -> float:
        """Return how long to wait before the next call may go (0 when it may go now)."""
        while self._sent and self._sent[0] <= now - self._span:
            self._sent.popleft()
        waits = [self._blocked_until - now]
        if len(self._sent) >= self.share:
            waits.append(self._sent[-self.share] + self._span - now)
        server = self._server
        if server and now < server.reset:
            allowed = math.floor(server.remaining * self._fraction) - self._since_observed
            if allowed <= 0:
                waits.append(server.reset + self._margin - now)
        elif self._outstanding > 0:
            waits.append(RECHECK_SECONDS)  # probing a window not seen yet: one call at a time
        return max(0.0, *waits)

    def observe(self, rate: RateHeaders | None) -> None:
        """Count a call as answered and learn from its rate headers (None: no answer)."""
        self._outstanding = max(0, self._outstanding - 1)
        if rate is None:
            return
        if rate.limit is not None and rate.limit > 0:
            self._server_limit = rate.limit
        if rate.remaining is None or rate.reset is None:
            return
        current = self._server
        if current is None or rate.reset > current.reset:
            self._server = ServerWindow(rate.reset, rate.remaining)
        elif rate.reset == current.reset and rate.remaining <= current.remaining:
            current.remaining = rate.remaining
        else:
            return  # an older answer: the current observation is tighter
        self._since_observed = self._outstanding

    def block_until(self, reset: float | None) -> float:
        """Send nothing before `reset` (after a 429); return the pause in seconds."""
        now = self._clock()
        until = (
            reset + self._margin if reset is not None and reset > now else now + MIN_PAUSE_SECONDS
        )
        self._blocked_until = max(self._blocked_until, until)
        return self._blocked_until - now
