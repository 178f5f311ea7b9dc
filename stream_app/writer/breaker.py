"""Tells "Intercom is failing" from "this command fails" by the outcomes of recent calls.

Every call across all commands is an outcome: up (accepted, or refused for the command's own
fault) or down (no answer, or a 5xx). The circuit trips when `failures` downs follow each other
with no up between them, or when at least `2 x failures` calls of the last `window` seconds
hold a share of downs of at least `ratio`. 429s and 401/403s are not outcomes here.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from stream_app.writer.limiter import Clock


@dataclass(frozen=True)
class BreakerPolicy:
    """When recent outcomes say Intercom as a whole is failing."""

    failures: int = 5
    window: float = 30.0
    ratio: float = 0.8

    @property
    def min_calls(self) -> int:
        """Return how many calls the window must hold before its ratio is judged."""
        return 2 * self.failures


class OutcomeWindow:
    """Recent call outcomes across all commands, on an injected clock."""

    def __init__(self, policy: BreakerPolicy, clock: Clock = time.time) -> None:
        """Start with no outcomes and no success seen."""
        self._policy = policy
        self._clock = clock
        self._outcomes: deque[tuple[float, bool]] = deque()  # (time, down)
        self._downs = 0
        self.consecutive = 0
        self.last_up = float("-inf")

    def up(self) -> None:
        """Record a call Intercom answered (accepted, or refused for the command's fault)."""
        self._add(down=False)
        self.consecutive = 0
        self.last_up = self._clock()

    def down(self) -> bool:
        """Record a call with no answer or a 5xx; return True when the circuit should open."""
        self._add(down=True)
        self.consecutive += 1
        return self.consecutive >= self._policy.failures or self._ratio_tripped()

    def up_since(self, moment: float) -> bool:
        """Whether some call was answered at or after `moment`."""
        return self.last_up >= moment

    def ratio(self) -> float:
        """Return the share of downs among the window's outcomes (0 when empty)."""
        self._expire()
        return self._downs / len(self._outcomes) if self._outcomes else 0.0

    def _ratio_tripped(self) -> bool:
        """Whether the window holds enough calls and too many of them failed."""
        ratio = self.ratio()
        return len(self._outcomes) >= self._policy.min_calls and ratio >= self._policy.ratio

    def _add(self, down: bool) -> None:
        """Append an outcome and forget the ones older than the window."""
        self._outcomes.append((self._clock(), down))
        self._downs += down
        self._expire()

    def _expire(self) -> None:
        """Drop outcomes older than the window."""
        horizon = self._clock() - self._policy.window
        while self._outcomes and self._outcomes[0][0] < horizon:
            _, down = self._outcomes.popleft()
            self._downs -= down
