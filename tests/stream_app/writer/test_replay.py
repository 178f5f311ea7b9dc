"""The writer's replay lane on a fake clock: the budget live calls leave, after live commands."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stream_app.lag import LagCollector, Progress, lane_of_topic
from stream_app.writer.errors import RateHeaders
from stream_app.writer.limiter import RateLimiter
from stream_app.writer.replay import (
    LIVE_LAG_RECORDS,
    MAX_HOLD_SECONDS,
    POLL_SECONDS,
    LiveCommandsFirst,
    SparePacer,
    reserve,
)
from tests.fakes.clock import FakeClock


def lanes(clock: FakeClock, budget: int = 10) -> tuple[RateLimiter, SparePacer]:
    """Return a limiter on the fake clock and the replay lane's pacer over it."""
    limiter = RateLimiter(budget, clock=clock, sleep=clock.sleep)
    return limiter, SparePacer(limiter, sleep=clock.sleep)


async def take(pacer: RateLimiter | SparePacer, count: int, clock: FakeClock) -> list[float]:
    """Acquire `count` calls, answer each at once, and return their times."""
    times = []
    for _ in range(count):
        await pacer.acquire()
        times.append(clock())
        pacer.observe(None)
    return times


def test_the_reserve_is_a_fifth_of_the_share_but_never_all_of_it() -> None:
    """Two of ten calls stay for live commands; a share of one leaves nothing in reserve."""
    assert [reserve(10), reserve(600), reserve(2), reserve(1)] == [2, 120, 1, 0]


async def test_replay_spends_the_share_minus_the_reserve_per_window(clock: FakeClock) -> None:
    """Eight replay calls go at once; the ninth waits until the window moves on."""
    _, pacer = lanes(clock)
    times = await take(pacer, 9, clock)
    assert times[:8] == [times[0]] * 8
    assert times[8] - times[0] >= 10


async def test_live_calls_still_go_at_once_after_a_replay_burst(clock: FakeClock) -> None:
    """With replay at its cap, two live calls go without waiting."""
    limiter, pacer = lanes(clock)
    start = clock()
    await take(pacer, 8, clock)
    assert await take(limiter, 2, clock) == [start, start]


async def test_replay_waits_while_a_live_call_waits_for_the_limiter(clock: FakeClock) -> None:
    """A live call waiting for the window goes before a replay call that came later."""
    limiter, pacer = lanes(clock, budget=3)
    await take(limiter, 3, clock)
    order: list[str] = []

    async def lane(name: str) -> None:
        await (limiter.acquire() if name == "live" else pacer.acquire())
        order.append(name)
        limiter.observe(None)  # answered

    live = asyncio.create_task(lane("live"))
    await asyncio.sleep(0)  # the live call takes the limiter's lock and sleeps on the clock
    await asyncio.gather(lane("replay"), live)
    assert order == ["live", "replay"]


async def test_replay_respects_the_servers_remaining(clock: FakeClock) -> None:
    """With Intercom reporting 3 calls left in its window, replay takes at most 3 - reserve."""
    limiter, _pacer = lanes(clock)
    await limiter.acquire()
    limiter.observe(RateHeaders(limit=10, remaining=3, reset=int(clock()) + 10))
    assert [limiter.try_spare(2) for _ in range(2)] == [True, False]


class Ready:
    """Topics that are ready."""

    async def wait(self) -> None:
        """Return at once."""


def live_first(ends: dict[int, int], sleep: Any) -> LiveCommandsFirst:
    """Return the replay lane's hold over live command partitions ending at `ends` (none done)."""
    lag = LagCollector(
        "g", Progress(), lambda: [("live", p) for p in ends] + [("live.replay", 0)],
        (lambda t, p: ends[p], lambda t, p: 0), lane_of_topic,
    )  # fmt: skip
    return LiveCommandsFirst(Ready(), lag, "live", sleep)


async def test_a_replayed_command_waits_for_waiting_live_commands() -> None:
    """A replayed command waits while live commands wait, and goes once they are consumed."""
    ends = {0: LIVE_LAG_RECORDS + 1, 1: 0}
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        ends[0] = 0  # the live lane consumed them

    await live_first(ends, sleep).wait()
    assert slept == [POLL_SECONDS]
    await live_first(ends, sleep).wait()
    assert slept == [POLL_SECONDS]


async def test_the_hold_is_bounded_while_live_commands_keep_waiting(clock: FakeClock) -> None:
    """With live commands never consumed, a replayed command still goes after MAX_HOLD_SECONDS."""
    await live_first({0: 1000}, clock.sleep).wait()
    assert sum(clock.sleeps) == pytest.approx(MAX_HOLD_SECONDS)
