"""The writer's health on a fake clock: states, probe turns, the horizon, report and metrics."""

from __future__ import annotations

import asyncio

import structlog

from stream_app.writer import errors
from stream_app.writer.breaker import BreakerPolicy, OutcomeWindow
from stream_app.writer.health import Health, HealthPolicy, State
from stream_app.writer.metrics import WriterMetrics
from tests.fakes.clock import FakeClock
from tests.stream_app.writer.conftest import make_health
from tests.stream_app.writer.test_sender import failure

REFUSED = errors.ConnectionFailedError("POST /events failed: connection refused")


def degraded(clock: FakeClock, **options: object) -> Health:
    """Return a health whose circuit just opened on three refused connections."""
    health = make_health(clock, failures=3, **options)  # type: ignore[arg-type]
    for _ in range(3):
        health.observe(REFUSED, probe=False)
    return health


async def test_failures_open_the_circuit_and_any_answer_closes_it(clock: FakeClock) -> None:
    """Three refused calls make it degraded; a 404 (Intercom answering) heals it."""
    health = degraded(clock)
    assert (health.state, health.holding(), health.since) == (State.DEGRADED, True, clock())
    health.observe(failure(404), probe=True)
    assert (health.state, health.holding(), health.since) == (State.HEALTHY, False, None)


def test_401_outranks_an_outage_and_an_outage_does_not_hide_a_401(clock: FakeClock) -> None:
    """A 401 while degraded makes it unauthorised; refused probes then keep it unauthorised."""
    health = degraded(clock)
    health.observe(failure(401), probe=False)
    assert health.state is State.UNAUTHORISED
    health.observe(REFUSED, probe=True)
    assert (health.state, health.reason) == (State.UNAUTHORISED, str(failure(401)))


def test_429_teaches_nothing(clock: FakeClock) -> None:
    """Rate limiting is the limiter's business: it neither opens nor closes the circuit."""
    health = make_health(clock, failures=1)
    health.observe(failure(429), probe=False)
    assert health.healthy
    health = degraded(clock)
    health.observe(failure(429), probe=True)
    assert health.state is State.DEGRADED


async def test_one_probe_turn_at_a_time_each_later_by_a_capped_doubling(clock: FakeClock) -> None:
    """Held callers take turns; the turns are 1, 2, 4, 4 s apart (cap 4) while probes fail."""
    health, opened, turns = degraded(clock), clock(), []
    for _ in range(5):
        assert await health.admit()
        turns.append(clock() - opened)
        health.observe(REFUSED, probe=True)
        health.end_probe()
    assert turns == [1.0, 3.0, 7.0, 11.0, 15.0]


async def test_a_prober_cancelled_while_waiting_passes_the_turn_on(clock: FakeClock) -> None:
    """A prober dropped by a rebalance does not leave the other held commands waiting for ever."""
    wake = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await wake.wait()

    window = OutcomeWindow(BreakerPolicy(failures=1), clock)
    health = Health(window, HealthPolicy(probe_first=1.0), clock, sleep)
    health.observe(REFUSED, probe=False)
    first = asyncio.create_task(health.admit())
    second = asyncio.create_task(health.admit())
    for _ in range(3):
        await asyncio.sleep(0)
    first.cancel()
    clock.advance(1)
    wake.set()
    assert await asyncio.wait_for(second, 1) is True
    assert first.cancelled()


async def test_held_callers_all_go_when_the_writer_heals(clock: FakeClock) -> None:
    """A success releases every held caller as a normal (non-probe) call."""
    health = degraded(clock)
    assert await health.admit()
    held = [asyncio.create_task(health.admit()) for _ in range(3)]
    await asyncio.sleep(0)
    health.observe(None, probe=True)
    health.end_probe()
    assert await asyncio.wait_for(asyncio.gather(*held), 1) == [False, False, False]


async def test_past_the_horizon_it_stops_holding_and_says_so_loudly(clock: FakeClock) -> None:
    """After the horizon calls go again (to be dead-lettered), logged at critical, once."""
    health = degraded(clock, horizon=10.0)
    clock.advance(10)
    with structlog.testing.capture_logs() as logs:
        assert not health.holding()
        assert not health.holding()
    assert [e["event"] for e in logs if e["log_level"] == "critical"] == [
        "writer.outage_horizon_passed"
    ]
    assert health.expired
    assert health.blames(first_failure=clock())
    assert health.report()["circuit"] == "expired"


def test_missing_token_is_never_probed(clock: FakeClock) -> None:
    """Refused for want of a token, the writer reports no next probe."""
    health = make_health(clock)
    health.refuse("INTERCOM_ACCESS_TOKEN is empty")
    assert health.state is State.UNAUTHORISED
    assert health.next_probe_in() is None


def test_report_says_degraded_why_and_since_when(clock: FakeClock) -> None:
    """The health page body keeps `healthy` and adds the state, reason, time and next probe."""
    assert make_health(clock).report()["healthy"] is True
    health = degraded(clock)
    clock.advance(0.25)
    assert health.report() == {
        "healthy": False,
        "state": "degraded",
        "reason": str(REFUSED),
        "since": "2025-11-21T04:40:00+00:00",
        "circuit": "open",
        "unhealthy_seconds": 0.25,
        "next_probe_in_seconds": 0.75,
    }


def test_metrics_follow_the_circuit(clock: FakeClock) -> None:
    """The gauges read 1/0 healthy and 0/1/2 circuit; each opening is counted once."""
    metrics = WriterMetrics()
    health = degraded(clock, horizon=10.0, on_change=metrics.show)

    def value(name: str) -> float | None:
        return metrics.registry.get_sample_value(name)

    assert (value("intercom_writer_healthy"), value("intercom_writer_circuit_state")) == (0, 1)
    clock.advance(10)
    health.holding()
    assert value("intercom_writer_circuit_state") == 2
    health.observe(None, probe=False)
    assert (value("intercom_writer_healthy"), value("intercom_writer_circuit_state")) == (1, 0)
    assert value("intercom_writer_circuit_opened_total") == 1
