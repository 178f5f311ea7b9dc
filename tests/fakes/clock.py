"""A fake clock for code that takes its clock (a `time()`-like callable) and its sleep injected."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A clock that moves only when the test advances it or the code under test sleeps."""

    def __init__(self, now: float = 1_763_700_000.0) -> None:
        """Start at `now` (by default a unix time aligned to a 10-second window)."""
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the sleep and advance the clock instead of sleeping, yielding to the loop once."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
