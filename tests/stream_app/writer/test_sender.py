"""Retries by error class, with a scripted Intercom and a fake clock: no real sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from intercom_stream.errors import AttemptsExhaustedError
from stream_app.writer import errors
from stream_app.writer.client import Accepted
from stream_app.writer.errors import OutageOutlastedError, RateHeaders
from stream_app.writer.health import Health, State
from stream_app.writer.limiter import RateLimiter
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.sender import Backoff, Sender
from tests.fakes.clock import FakeClock
from tests.stream_app.writer.conftest import make_command, make_health


def failure(status: int, reset: float | None = None) -> errors.WriterError:
    """Return the error Intercom's answer with this status becomes."""
    body = {"type": "error.list", "request_id": f"req-{status}", "errors": []}
    return errors.error_for_status(status, body, RateHeaders(600, 0, reset))


class ScriptedIntercom:
    """Answers calls from a script of outcomes (an error to raise, or None to accept)."""

    def __init__(self, clock: FakeClock, script: list[errors.WriterError | None]) -> None:
        """Keep the script; when it runs out every call is accepted."""
        self.clock = clock
        self.script = list(script)
        self.calls: list[tuple[str, float]] = []

    async def call(self, method: str, path: str, body: dict[str, Any], command_id: str) -> Accepted:
        """Record the call and answer with the next scripted outcome."""
        self.calls.append((command_id, self.clock()))
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        return Accepted(202, RateHeaders(600, 500, self.clock() + 5))


def sender_for(
    clock: FakeClock,
    intercom: Any,
    health: Health | None = None,
    max_attempts: int = 3,
    metrics: WriterMetrics | None = None,
) -> Sender:
    """Return a sender with 3 attempts, a 4 s cap and no jitter, on the fake clock."""
    limiter = RateLimiter(600, clock=clock, sleep=clock.sleep)
    backoff = Backoff(max_attempts=max_attempts, cap=4.0, base=1.0, jitter=lambda: 1.0)
    return Sender(
        intercom,
        limiter,
        health or make_health(clock),
        backoff,
        metrics or WriterMetrics(),
        clock.sleep,
        clock,
    )


def test_backoff_doubles_with_jitter_and_stays_under_the_cap() -> None:
    """Delays grow exponentially, keep at least half their ceiling, and never pass the cap."""
    low = Backoff(max_attempts=9, cap=10.0, base=1.0, jitter=lambda: 0.0)
    high = Backoff(max_attempts=9, cap=10.0, base=1.0, jitter=lambda: 1.0)
    assert [low.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1, 2, 4, 5, 5]
    assert [high.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 10, 10]


async def test_5xx_and_timeouts_are_retried_with_backoff(clock: FakeClock) -> None:
    """A 500 then a timeout, then success: three calls, backoff pauses of 1 s and 2 s."""
    intercom = ScriptedIntercom(clock, [failure(500), errors.RequestTimeoutError("slow")])
    attempts = await sender_for(clock, intercom).send(make_command())
    assert attempts == 3
    assert clock.sleeps == [1.0, 2.0]


async def test_retries_are_bounded_then_the_command_fails(clock: FakeClock) -> None:
    """After max_attempts failures, with another call answered meanwhile, it is dead-lettered."""
    intercom = ScriptedIntercom(clock, [failure(503), None] + [failure(503)] * 5)
    sender = sender_for(clock, intercom)
    await sender.send(make_command("b"))  # a 503 then accepted: Intercom is up
    with pytest.raises(AttemptsExhaustedError) as caught:
        await sender.send(make_command())
    assert caught.value.attempts == 3
    assert len(intercom.calls) == 2 + 3
    assert isinstance(caught.value.error, errors.ServerError)
    assert not isinstance(caught.value, OutageOutlastedError)


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_client_errors_fail_at_once(clock: FakeClock, status: int) -> None:
    """404, 400 and 422 are not retried."""
    intercom = ScriptedIntercom(clock, [failure(status)])
    with pytest.raises(AttemptsExhaustedError) as caught:
        await sender_for(clock, intercom).send(make_command())
    assert caught.value.attempts == 1
    assert isinstance(caught.value.error, errors.IntercomResponseError)
    assert caught.value.error.request_id == f"req-{status}"
    assert clock.sleeps == []


async def test_429_waits_for_the_reset_and_does_not_count_as_an_attempt(clock: FakeClock) -> None:
    """Three 429s do not exhaust three attempts; each retry waits for X-RateLimit-Reset."""
    reset = clock() + 6
    intercom = ScriptedIntercom(clock, [failure(429, reset)] * 3)
    await sender_for(clock, intercom).send(make_command())
    assert len(intercom.calls) == 4
    assert all(at >= reset for _, at in intercom.calls[1:])


async def test_401_halts_every_sender_until_a_probe_succeeds(clock: FakeClock) -> None:
    """On 401 every command waits; held commands take turns to probe, none fails."""
    states: list[State] = []
    health = make_health(clock, on_change=lambda h: states.append(h.state))
    intercom = ScriptedIntercom(clock, [failure(401), failure(401)])
    sender = sender_for(clock, intercom, health)
    first, second = make_command("a"), make_command("b")
    assert list(await asyncio.gather(sender.send(first), sender.send(second))) == [1, 1]
    assert states == [State.UNAUTHORISED, State.HEALTHY]
    calls = [command_id for command_id, _ in intercom.calls]
    assert calls == [first.command_id, first.command_id, second.command_id, first.command_id]
    assert [at - intercom.calls[0][1] for _, at in intercom.calls[1:3]] == [1.0, 3.0]


async def test_missing_token_sends_nothing(clock: FakeClock) -> None:
    """Refused for want of a token, deliver waits and makes no call, not even a probe."""
    health = make_health(clock)
    health.refuse("INTERCOM_ACCESS_TOKEN is empty")
    intercom = ScriptedIntercom(clock, [])
    task = asyncio.create_task(sender_for(clock, intercom, health).send(make_command()))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()
    assert intercom.calls == []
    task.cancel()
