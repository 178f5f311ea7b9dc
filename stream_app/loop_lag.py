"""How late the event loop runs a timer: the signal both replay lanes hold back on."""

from __future__ import annotations

import asyncio
import time
from typing import Any

LOOP_LATE_SECONDS = 0.005  # how late the event loop may run a timer before replay holds back
TICK_SECONDS = 0.01


class LoopLag:
    """How late the event loop runs a timer (smoothed): how busy this process is right now.

    A process whose loop is saturated delays every live record behind the replayed ones being
    processed, before any live lag shows; the replay lane holds back while the loop is late.
    """

    def __init__(self, clock: Any = time.monotonic, sleep: Any = asyncio.sleep) -> None:
        """Start with a punctual loop; nothing is measured until run() runs."""
        self.late = 0.0
        self._clock = clock
        self._sleep = sleep

    def observe(self, late: float) -> None:
        """Fold one measurement (seconds late) into the smoothed lateness."""
        self.late = 0.8 * self.late + 0.2 * max(0.0, late)

    async def run(self) -> None:
        """Measure every TICK_SECONDS how late the loop wakes this task (until cancelled)."""
        while True:
            before = self._clock()
            await self._sleep(TICK_SECONDS)  # the tick being measured
            self.observe(self._clock() - before - TICK_SECONDS)
