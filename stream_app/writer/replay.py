"""The writer's replay lane: replayed commands, paced to the budget live commands leave.

The worker's replay lane writes its commands to `<commands>.replay`, marked `replay: true`.
The writer consumes that topic with an agent of its own, whose calls go through SparePacer:
a call is taken only when it may go at once, no live call is waiting for the limiter, and
more than a reserve of the window's share stays unspent for live commands. Both lanes share
the limiter, the health, the ledger and the claims (docs/replay.md).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Protocol

from stream_app.lag import LagCollector
from stream_app.loop_lag import LOOP_LATE_SECONDS, LoopLag
from stream_app.writer.errors import RateHeaders
from stream_app.writer.limiter import RateLimiter, Sleep

RESERVE_FRACTION = 0.2  # of the share, kept for live commands arriving in bursts
POLL_SECONDS = 0.02  # how often the waiting replay call looks again for spare budget
REPLAY_MAX_IN_FLIGHT = 50  # replayed records held at once (each waits for spare budget)
LIVE_LAG_RECORDS = 8  # live commands waiting to be consumed before replayed ones hold back
MAX_HOLD_SECONDS = 0.1  # per replayed command already handed over, while live ones wait
WINDOW_RECORDS = 4  # replayed commands handed to faust and not yet taken by the lane, at most


class Ready(Protocol):
    """Holds records until the topics they write are ready (the writer's TopicGate)."""

    async def wait(self) -> None:
        """Return once the topics are ready."""


@dataclass
class LiveCommandsFirst:
    """Holds each replayed command a moment while live commands wait to be consumed.

    Both lanes share the writer's one consumer; a replay lane taking records as fast as they
    come delays the delivery of live ones. The consumer's intake (`allowance`) hands replayed
    commands over only while live ones do not wait; the hold here covers those already handed
    over, and is bounded so that a live backlog slows the replay lane without stopping it.
    """

    ready: Ready
    lag: LagCollector
    live_topic: str
    sleep: Sleep = asyncio.sleep
    loop: LoopLag = field(default_factory=LoopLag)

    def live_lag(self) -> int:
        """Return how many live commands this writer's assigned partitions have waiting."""
        return self.lag.topic_lag(self.live_topic)

    def allowance(self, in_flight: int) -> int:
        """Return how many replayed commands the consumer may hand to faust now (its Intake)."""
        busy = self.live_lag() > LIVE_LAG_RECORDS or self.loop.late > LOOP_LATE_SECONDS
        return 0 if busy else max(0, WINDOW_RECORDS - in_flight)

    async def wait(self) -> None:
        """Return once the topics are ready and live commands are not waiting, or after a hold."""
        await self.ready.wait()
        for _ in range(round(MAX_HOLD_SECONDS / POLL_SECONDS)):
            if self.live_lag() <= LIVE_LAG_RECORDS:
                return
            await self.sleep(POLL_SECONDS)  # a yield to the live lane, bounded by the loop


def reserve(share: int, fraction: float = RESERVE_FRACTION) -> int:
    """Return the calls per window left to live commands (never the whole share)."""
    return min(max(1, math.ceil(share * fraction)), share - 1)


class SparePacer:
    """Paces replay calls to the limiter's spare budget, one waiting call at a time."""

    def __init__(
        self,
        limiter: RateLimiter,
        sleep: Sleep = asyncio.sleep,
        fraction: float = RESERVE_FRACTION,
        poll: float = POLL_SECONDS,
    ) -> None:
        """Wrap the live limiter; replay calls queue behind one another, not behind live ones."""
        self._limiter = limiter
        self._sleep = sleep
        self._fraction = fraction
        self._poll = poll
        self._turn = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until the limiter has a call to spare after live traffic and count it."""
        async with self._turn:
            while not self._limiter.try_spare(reserve(self._limiter.share, self._fraction)):
                await self._sleep(self._poll)  # a poll of the budget, bounded by the window

    def observe(self, rate: RateHeaders | None) -> None:
        """Count the call as answered, in the shared limiter."""
        self._limiter.observe(rate)

    def block_until(self, reset: float | None) -> float:
        """Pause both lanes after a 429 (the limiter is shared); return the pause."""
        return self._limiter.block_until(reset)
