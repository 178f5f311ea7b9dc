"""The writer killed with SIGKILL mid-send under load: nothing lost, resends only identical."""

from __future__ import annotations

import time

import pytest

from dev.fakes.intercom import FakeIntercom
from tests.reliability.conftest import steady_load
from tests.reliability.ledger import wait_for
from tests.reliability.load import Load
from tests.reliability.pipeline import Pipeline, run_load, settle
from tests.reliability.summary import record

SCENARIO = "3 writer kill -9 mid-send x3"
pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(420)]
KILLS = 3
LATENCY = 0.05  # each call is in flight 50 ms, so a kill lands between sends and their answers


def intercom_dedups(fake: FakeIntercom, command_id: str) -> bool:
    """Whether every accepted call of the command carried the same data event (name, time, user).

    Intercom deduplicates data events on (workspace, contact, event_name, created_at): a second
    identical call answers 202 and creates no second event.
    """
    keys = {c.event for c in fake.calls if c.command_id == command_id and c.status == 202}
    return len(keys) == 1 and None not in keys


def age_at_kill(fake: FakeIntercom, command_id: str, killed_at: list[float]) -> float | None:
    """Return how long before the next kill the command was first accepted (None: after all)."""
    first = min(c.at for c in fake.calls if c.command_id == command_id and c.status == 202)
    return next((kill - first for kill in killed_at if kill >= first), None)


async def test_writer_killed_mid_send_loses_nothing_and_resends_only_what_intercom_dedups(
    pipe: Pipeline, fake: FakeIntercom, unique: str
) -> None:
    """Three kill -9s mid-send: each command accepted once, or resent identically (deduped)."""
    started = time.monotonic()
    fake.faults.latency = LATENCY
    await pipe.start_all()
    load = steady_load(pipe, f"rk{unique}")
    expected = sum(1 for p in load.postings if p.command_id) * 9 // 10
    killed_at: list[float] = []

    async def faults(load: Load) -> None:
        for kill in range(1, KILLS + 1):
            target = expected * kill // (KILLS + 1)
            await wait_for(
                lambda target=target: len(fake.accepted()) >= target,  # type: ignore[misc]
                120,
                lambda: f"{len(fake.accepted())} accepted\n{pipe.tails()}",
                every=0.05,
            )
            killed_at.append(fake.clock())
            pipe.kill("writer")
            await pipe.start("writer")

    await run_load(load, faults)
    result = await settle(pipe, load)
    resent = set(result.sent_twice)
    deduplicated = {cid for cid in resent if intercom_dedups(fake, cid)}
    ages = [age_at_kill(fake, cid, killed_at) for cid in resent]
    at_kill = sum(1 for age in ages if age is not None and age < 1.0)
    record(
        SCENARIO,
        time.monotonic() - started,
        load,
        result,
        f"{pipe.kills['writer']} writer SIGKILLs with calls in flight ({LATENCY * 1000:.0f} ms)",
        duplicated=len(resent - deduplicated),
        notes=f"{len(deduplicated)} resent identically (Intercom dedups them): {at_kill} accepted"
        f" <1 s before a kill, {len(resent) - at_kill} around the rebalance after one",
    )
    assert load.statuses() == {200: len(load.postings)}, load.statuses()
    assert pipe.kills["writer"] == KILLS
    assert result.lost == 0, result.brief()
    assert result.dead_commands == {}, result.dead_commands
    assert resent == deduplicated, f"resent with another body: {resent - deduplicated}"
    assert max(result.sent_twice.values(), default=1) <= 1 + KILLS, result.sent_twice
    # A resend is a command accepted whose ledger write was not yet durable when the writer was
    # killed, or when the rebalance after the kill (the dead member's session timing out) dropped
    # its job: at most the in-flight window, twice per kill.
    assert len(resent) <= 2 * KILLS * pipe.settings.writer_max_in_flight, len(resent)
