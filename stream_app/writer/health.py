"""The writer's health: healthy, degraded (circuit open: Intercom failing) or unauthorised.

While it is not healthy, commands are held: they wait, in arrival order, for a probe turn, and
one call goes per probe interval (from `probe_first` doubling to `probe_cap`), made with a real
pending command. A call Intercom answers (accepted, or refused for the command's own fault)
heals the writer and every held command goes; a failed probe schedules the next turn and the
prober queues again behind the others, so one failing command cannot starve the rest.
An outage that outlasts `horizon` stops holding commands: they are retried and dead-lettered
as their own failures again. 401/403 make the writer unauthorised and are never given up on;
a missing token is never probed (only a restart with a token fixes it).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from stream_app.writer.breaker import OutcomeWindow
from stream_app.writer.errors import WriterError
from stream_app.writer.limiter import Clock, Sleep

log = structlog.get_logger("stream_app.writer.health")


class State(enum.StrEnum):
    """What the writer may do."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNAUTHORISED = "unauthorised"


@dataclass(frozen=True)
class HealthPolicy:
    """How often to probe while unhealthy, and when to give up on an outage."""

    probe_first: float = 1.0
    probe_cap: float = 60.0
    horizon: float = 24 * 3600.0


class Health:
    """The writer's state, the probe turns of held commands and the outage horizon."""

    def __init__(
        self,
        window: OutcomeWindow,
        policy: HealthPolicy,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        on_change: Callable[[Health], None] = lambda health: None,
    ) -> None:
        """Start healthy; `on_change` hears every transition."""
        self.window = window
        self.policy = policy
        self.state = State.HEALTHY
        self.reason = ""
        self.since: float | None = None
        self.expired = False  # an outage past the horizon: commands are no longer held
        self._clock, self._sleep, self._on_change = clock, sleep, on_change
        self._turns = asyncio.Lock()  # fair (FIFO): the probe turn passes round the held commands
        self._change = asyncio.Event()  # set, then replaced, on every transition
        self._probing = True
        self._interval = policy.probe_first
        self._next_probe = 0.0

    @property
    def healthy(self) -> bool:
        """Whether the writer sends freely."""
        return self.state is State.HEALTHY

    def holding(self) -> bool:
        """Whether calls wait for a probe turn (noticing, once, an outage past the horizon)."""
        if self.state is State.HEALTHY or self.expired:
            return False
        if self.state is State.DEGRADED and self.unhealthy_seconds() >= self.policy.horizon:
            self._expire()
            return False
        return True

    def unhealthy_seconds(self) -> float:
        """Return how long the writer has been in its current unhealthy state (0 when healthy)."""
        return 0.0 if self.since is None else self._clock() - self.since

    async def admit(self) -> bool:
        """Wait until a call may go; True means it is the probe and end_probe() must follow."""
        if not self.holding():
            return False
        await self._turns.acquire()
        try:
            await self._until_probe()
        except BaseException:
            self._turns.release()
            raise
        if self.holding():
            return True
        self._turns.release()
        return False

    def end_probe(self) -> None:
        """Pass the probe turn on (after the probe's outcome was observed)."""
        self._turns.release()

    async def _until_probe(self) -> None:
        """Wait until the next probe is due, or until the writer no longer holds calls."""
        while self.holding():
            if not self._probing:
                await self._change.wait()
                continue
            delay = self._next_probe - self._clock()
            if delay <= 0:
                return
            await self._nap(delay)

    async def _nap(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking early on any transition."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        changed = asyncio.ensure_future(self._change.wait())
        try:
            await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            changed.cancel()

    def observe(self, error: WriterError | None, probe: bool) -> None:
        """Learn from one call's outcome (None: accepted); 429s teach nothing here."""
        if error is None or error.command_fault:
            self.window.up()
            self._heal()
        elif error.halts_sending:
            self._fail(State.UNAUTHORISED, str(error), probe)
        elif error.outage:
            tripped = self.window.down()
            if tripped or not self.healthy:
                self._fail(State.DEGRADED, str(error), probe)

    def open(self, error: WriterError) -> None:
        """Open the circuit: a command failed again and again while nothing else succeeded."""
        if self.healthy:
            self._fail(State.DEGRADED, str(error), probe=False)

    def refuse(self, reason: str) -> None:
        """Hold every call for good (no token): nothing is sent, nothing probes."""
        self._probing = False
        self._fail(State.UNAUTHORISED, reason, probe=False)

    def blames(self, first_failure: float) -> bool:
        """Whether a command failing since then fails on its own (others succeeded, or expired)."""
        return self.expired or self.window.up_since(first_failure)

    def _fail(self, state: State, reason: str, probe: bool) -> None:
        """Enter or stay unhealthy (401/403 outrank an outage); a failed probe backs off."""
        outranks = state is State.UNAUTHORISED and self.state is not State.UNAUTHORISED
        if self.healthy or outranks:
            self._enter(state, reason)
            return
        if self.state is state:
            self.reason = reason
        if probe:
            self._interval = min(self.policy.probe_cap, self._interval * 2)
            self._next_probe = self._clock() + self._interval

    def _enter(self, state: State, reason: str) -> None:
        """Switch to an unhealthy state and schedule the first probe."""
        now = self._clock()
        self.state, self.reason, self.since, self.expired = state, reason, now, False
        self._interval = min(self.policy.probe_cap, self.policy.probe_first)
        self._next_probe = now + self._interval
        log.error("writer.unhealthy", state=str(state), reason=reason)
        self._changed()

    def _heal(self) -> None:
        """Become healthy again: every held command goes."""
        if self.healthy:
            return
        log.info("writer.healthy", was=str(self.state), after_seconds=self.unhealthy_seconds())
        self.state, self.reason, self.since, self.expired = State.HEALTHY, "", None, False
        self._changed()

    def _expire(self) -> None:
        """Stop holding commands: the outage outlasted the horizon."""
        self.expired = True
        log.critical(
            "writer.outage_horizon_passed",
            reason=self.reason,
            since=iso(self.since),
            horizon_seconds=self.policy.horizon,
            consequence="failing commands are dead-lettered again",
        )
        self._changed()

    def _changed(self) -> None:
        """Tell the listener and wake every waiter, which look at the state again."""
        self._on_change(self)
        self._change.set()
        self._change = asyncio.Event()

    def report(self) -> dict[str, Any]:
        """Return the health page's body."""
        return {
            "healthy": self.healthy,
            "state": str(self.state),
            "reason": self.reason or None,
            "since": iso(self.since),
            "circuit": circuit(self),
            "unhealthy_seconds": round(self.unhealthy_seconds(), 3),
            "next_probe_in_seconds": self.next_probe_in(),
        }

    def next_probe_in(self) -> float | None:
        """Return the seconds until the next probe turn, or None when nothing is probing."""
        if not self.holding() or not self._probing:
            return None
        return round(max(0.0, self._next_probe - self._clock()), 3)


def circuit(health: Health) -> str:
    """Return `closed`, `open` (commands held) or `expired` (open past the horizon)."""
    if health.state is not State.DEGRADED:
        return "closed"
    return "expired" if health.expired else "open"


def iso(moment: float | None) -> str | None:
    """Return a unix time as an ISO 8601 UTC string."""
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()
