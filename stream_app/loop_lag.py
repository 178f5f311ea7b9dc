"""How late the event loop runs a timer: the signal both replay lanes hold back on."""

from __future__ import annotations

import asyncio
import time
from typing import Any

LOOP_LATE_SECONDS = 0.005  # how late the event loop may run a timer before replay holds back
TICK_SECONDS = 0.01
DECAY = 0.8  # a tick's share of the last lateness kept: a 20 ms stall holds replay 7 ticks (~70 ms)


class LoopLag:
    """How late the event loop ran a timer lately (the peak, decaying): how busy the process is.

    A process whose loop is saturated delays every live record behind the replayed ones being
    processed, before any live lag shows; the replay lane holds back while the loop is late.
    A stall counts in full and fades by DECAY a tick: on a shared machine stalls come in runs
    (the CPU is taken), and an average (it was one) let a 20 ms stall count as 4 ms, so the
    replay went on through them. With the peak, `make bench-replay` gave a lower live p99 in
    most runs (docs/benchmarks.md, session 8).
    """

    def __init__(self, clock: Any = time.monotonic, sleep: Any = asyncio.sleep) -> None:
        """Start with a punctual loop; nothing is measured until run() runs."""
        self.late = 0.0
        self._clock = clock
        self._sleep = sleep

    def observe(self, late: float) -> None:
        """Fold one measurement (seconds late) in: the larger of it and the decayed lateness."""
        self.late = max(DECAY * self.late, late, 0.0)

    async def run(self) -> None:
        """Measure every TICK_SECONDS how late the loop wakes this task (until cancelled)."""
        while True:
            before = self._clock()
            await self._sleep(TICK_SECONDS)  # the tick being measured
            self.observe(self._clock() - before - TICK_SECONDS)
