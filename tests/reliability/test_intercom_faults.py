"""The fake Intercom misbehaving under load: refused, 500 bursts, a 429 storm, 30 s latencies."""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
import pytest

from dev.fakes.intercom import Call, FakeIntercom
from tests.reliability.conftest import RATE, steady_load
from tests.reliability.ledger import wait_for
from tests.reliability.load import Load
from tests.reliability.pipeline import Pipeline, assert_clean, run_load, settle, until_posted
from tests.reliability.summary import record

OUTAGE = float(os.environ.get("RELIABILITY_OUTAGE_SECONDS", "120"))  # CI: the full 2 minutes
BURSTS, BURST = 3, 10  # bursts of 500s, each consumed before the next
STORM = 5.0  # seconds of 429s, each answered with X-RateLimit-Reset = the storm's end
LATENCY, SLOW = 30.0, 8.0  # calls arriving in an 8 s window take 30 s each
GRACE = 0.5  # calls already on the wire when a fault began may still arrive
SCENARIO = "4 Intercom misbehaving"
pytestmark = [
    pytest.mark.reliability,
    pytest.mark.integration,
    pytest.mark.timeout(OUTAGE + 480),
]


async def writer_state(pipe: Pipeline, session: aiohttp.ClientSession) -> str:
    """Return the state /writer/health reports (healthy, degraded, unauthorised)."""
    port = pipe.processes["writer"].settings.writer_web_port
    async with session.get(f"http://127.0.0.1:{port}/writer/health") as response:
        return str((await response.json())["state"])


def calls_in_429_windows(calls: list[Call]) -> list[Call]:
    """Return calls that arrived after a 429 (plus GRACE) and before the reset it announced."""
    firsts: dict[int, float] = {}
    for call in calls:
        if call.status == 429 and call.reset is not None:
            firsts[call.reset] = min(firsts.get(call.reset, call.at), call.at)
    return [c for c in calls for reset, at in firsts.items() if at + GRACE < c.at < reset]


async def test_intercom_outage_500s_429_storm_and_latency_lose_and_double_nothing(
    pipe: Pipeline, fake: FakeIntercom, unique: str
) -> None:
    """Connection refused for OUTAGE s, then 500 bursts, a 429 storm and 30 s latencies."""
    started = time.monotonic()
    pipe.settings = pipe.settings.model_copy(
        update={"writer_max_attempts": 6, "writer_total_timeout_seconds": LATENCY + 15}
    )
    await pipe.start_all()
    load = steady_load(pipe, f"if{unique}", rate=RATE / 3, seconds=OUTAGE + 60)
    states: set[str] = set()
    windows: list[tuple[float, float]] = []

    async def faults(load: Load) -> None:
        async with aiohttp.ClientSession() as session:
            await until_posted(load, int(RATE / 3 * 5))
            await fake.refuse_connections()
            down = fake.clock()
            while fake.clock() - down < OUTAGE:  # hold the outage, watching the health page
                states.add(await writer_state(pipe, session))
                await asyncio.sleep(0.5)
            await fake.accept_connections()
            windows.append((down, fake.clock()))
            for _ in range(240):
                if await writer_state(pipe, session) == "healthy":
                    break
                await asyncio.sleep(0.5)  # polling interval; the loop bounds the wait to 120 s
            else:
                raise AssertionError(f"writer not healthy after the outage\n{pipe.tails()}")
        for _ in range(BURSTS):
            fake.faults.server_errors = BURST
            await wait_for(
                lambda: fake.faults.server_errors == 0,
                60,
                lambda: f"a burst of 500s not consumed\n{pipe.tails()}",
                every=0.1,
            )
        fake.faults.throttled_until = fake.clock() + STORM
        await asyncio.sleep(STORM + 1.0)  # hold the storm for its duration
        fake.faults.latency = LATENCY
        await asyncio.sleep(SLOW)  # hold the latency fault for its duration
        fake.faults.latency = 0.0

    await run_load(load, faults)
    result = await settle(pipe, load, timeout=300)
    # A request already read when the listener closed is still answered; GRACE covers it.
    during = [c for c in fake.calls if windows and windows[0][0] + GRACE < c.at < windows[0][1]]
    in_429 = calls_in_429_windows(fake.calls)
    record(
        SCENARIO,
        time.monotonic() - started,
        load,
        result,
        f"refused {OUTAGE:.0f} s, {BURSTS}x{BURST} 500s, 429 storm {STORM:.0f} s,"
        f" {LATENCY:.0f} s latency for {SLOW:.0f} s",
        notes=f"health during outage: {sorted(states)}; statuses {dict(fake.statuses())};"
        f" calls in 429 windows: {len(in_429)}",
    )
    assert_clean(load, result)
    assert "degraded" in states, states
    assert during == [], f"{len(during)} calls answered during the outage"
    assert in_429 == [], in_429[:5]
    assert fake.statuses()[429] >= 1
    assert fake.statuses()[500] == BURSTS * BURST
