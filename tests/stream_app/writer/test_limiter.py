"""The rate limiter, driven by a fake clock: budgets, shares, headers and 429 pauses."""

from __future__ import annotations

import asyncio
import math

from stream_app.writer.errors import RateHeaders
from stream_app.writer.limiter import MARGIN_SECONDS, RateLimiter
from tests.fakes.clock import FakeClock


def limiter(clock: FakeClock, budget: int = 10) -> RateLimiter:
    """Return a limiter on the fake clock."""
    return RateLimiter(budget, clock=clock, sleep=clock.sleep)


async def send(lim: RateLimiter, count: int, clock: FakeClock) -> list[float]:
    """Acquire `count` calls, answer each at once without headers, and return their times."""
    times = []
    for _ in range(count):
        await lim.acquire()
        times.append(clock())
        lim.observe(None)
    return times


def most_in_any_window(times: list[float], span: float = 10.0) -> int:
    """Return the most calls found in any interval of `span` seconds."""
    return max(sum(1 for t in times if start <= t < start + span) for start in times)


async def test_whole_budget_goes_at_once_then_waits_for_the_window(clock: FakeClock) -> None:
    """Ten calls go without waiting; the eleventh waits until the first is 10 s (+margin) old."""
    lim = limiter(clock)
    times = await send(lim, 11, clock)
    assert times[:10] == [times[0]] * 10
    assert math.isclose(times[10] - times[0], 10 + MARGIN_SECONDS, abs_tol=1e-3)


async def test_no_ten_second_interval_ever_holds_more_than_the_budget(clock: FakeClock) -> None:
    """Whatever the phase of the server's windows, no 10 s interval exceeds the budget."""
    lim = limiter(clock, budget=7)
    times = await send(lim, 100, clock)
    assert most_in_any_window(times) == 7
    aligned = [
        sum(1 for t in times if math.floor(t / 10) == w)
        for w in {math.floor(t / 10) for t in times}
    ]
    assert max(aligned) <= 7


async def test_share_follows_the_partition_fraction(clock: FakeClock) -> None:
    """An instance with 2 of 8 partitions takes a quarter of the budget."""
    lim = limiter(clock, budget=600)
    lim.set_fraction(2 / 8)
    assert lim.share == 150
    times = await send(lim, 151, clock)
    assert times[149] == times[0]
    assert times[150] > times[0] + 10


async def test_two_instances_together_stay_within_the_global_budget(clock: FakeClock) -> None:
    """Two limiters with half the partitions each never exceed the budget together."""
    first, second = limiter(clock, 600), limiter(clock, 600)
    first.set_fraction(0.5)
    second.set_fraction(0.5)
    times = await send(first, 700, clock) + await send(second, 0, clock)
    clock.now = times[0]
    times += await send(second, 700, clock)
    assert most_in_any_window(sorted(times)) <= 600


async def test_lower_server_limit_header_shrinks_the_budget(clock: FakeClock) -> None:
    """X-RateLimit-Limit below the configured budget is the budget that holds."""
    lim = limiter(clock, budget=1666)
    await lim.acquire()
    lim.observe(RateHeaders(limit=600, remaining=599, reset=clock() + 10))
    assert lim.share == 600


async def test_remaining_header_caps_calls_until_the_reset(clock: FakeClock) -> None:
    """When others spent the window, Remaining x fraction is all this instance takes."""
    lim = limiter(clock, budget=600)
    lim.set_fraction(0.5)
    reset = math.floor(clock() / 10) * 10 + 10
    await lim.acquire()
    lim.observe(RateHeaders(limit=600, remaining=6, reset=reset))
    times = await send(lim, 4, clock)
    assert times[:3] == [times[0]] * 3
    assert times[3] >= reset


async def test_stale_headers_from_an_older_window_are_ignored(clock: FakeClock) -> None:
    """An answer for an earlier window cannot restrict the current one."""
    lim = limiter(clock, budget=600)
    now_reset = math.floor(clock() / 10) * 10 + 10
    lim.observe(RateHeaders(limit=600, remaining=500, reset=now_reset))
    lim.observe(RateHeaders(limit=600, remaining=0, reset=now_reset - 10))
    assert lim.remaining == 500
    assert lim.delay(clock()) == 0


async def test_429_blocks_every_caller_until_the_reset(clock: FakeClock) -> None:
    """After a 429 nothing is sent before X-RateLimit-Reset, even by other callers."""
    lim = limiter(clock, budget=600)
    reset = clock() + 7
    assert math.isclose(lim.block_until(reset), 7 + MARGIN_SECONDS, abs_tol=1e-3)
    await send(lim, 2, clock)
    assert clock() >= reset


async def test_an_unseen_window_is_probed_with_one_call_at_a_time(clock: FakeClock) -> None:
    """Before the window's first answer, a second caller waits for that answer."""
    lim = limiter(clock, budget=600)
    await lim.acquire()
    second = asyncio.create_task(lim.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done()
    lim.observe(RateHeaders(limit=600, remaining=400, reset=clock() + 5))
    await asyncio.wait_for(second, 1)
    assert lim.delay(clock()) == 0


async def test_429_without_a_future_reset_still_pauses(clock: FakeClock) -> None:
    """A reset in the past (clock skew) still pauses instead of hammering."""
    lim = limiter(clock)
    assert lim.block_until(clock() - 5) == 1.0
    assert lim.block_until(None) >= 1.0
