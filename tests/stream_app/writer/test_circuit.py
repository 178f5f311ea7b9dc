"""The sender with the circuit, on a fake clock: outages hold commands, lone failures do not."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import structlog

from intercom_stream.errors import AttemptsExhaustedError
from stream_app.writer import errors
from stream_app.writer.client import Accepted
from stream_app.writer.errors import OutageOutlastedError, RateHeaders
from stream_app.writer.health import State
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.sender import Sender
from tests.fakes.clock import FakeClock
from tests.stream_app.writer.conftest import make_command, make_health
from tests.stream_app.writer.test_sender import failure, sender_for

Rule = Callable[[str, float], errors.WriterError | None]
T = TypeVar("T")


async def bounded(work: Awaitable[T]) -> T:
    """Await fake-clock work, failing clearly if it hangs (it takes milliseconds of real time)."""
    try:
        return await asyncio.wait_for(work, 5)
    except TimeoutError:
        raise AssertionError("still waiting after 5 s: a command is stuck") from None


class RoutedIntercom:
    """Answers every call by a rule of (command id, time): an error to raise, or None to accept."""

    def __init__(self, clock: FakeClock, rule: Rule) -> None:
        """Keep the rule; record every call as (command id, time, accepted)."""
        self.clock = clock
        self.rule = rule
        self.calls: list[tuple[str, float, bool]] = []
        self.hang: set[str] = set()  # command ids whose calls never answer

    async def call(self, method: str, path: str, body: dict[str, Any], command_id: str) -> Accepted:
        """Answer by the rule."""
        error = self.rule(command_id, self.clock())
        self.calls.append((command_id, self.clock(), error is None))
        if command_id in self.hang:
            await asyncio.Event().wait()
        if error is not None:
            raise error
        return Accepted(202, RateHeaders(600, 500, self.clock() + 5))

    def accepted(self) -> Counter[str]:
        """Return how often each command id was accepted."""
        return Counter(command_id for command_id, _, ok in self.calls if ok)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Give the other tasks turns of the loop until the condition holds (bounded)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


def refused_until(moment: float) -> Rule:
    """Refuse every connection before `moment`, then accept everything."""
    return lambda command_id, now: (
        errors.ConnectionFailedError("connection refused") if now < moment else None
    )


def fails_for(poison: str, status: int = 500) -> Rule:
    """Answer `status` to one command and accept every other."""
    return lambda command_id, now: failure(status) if command_id == poison else None


async def traffic(sender: Sender, clock: FakeClock, count: int) -> None:
    """Deliver `count` other contacts' commands, one per fake second."""
    for n in range(count):
        await clock.sleep(1.0)
        await sender.send(make_command(f"other-{n}"))


async def test_an_outage_holds_every_command_probes_in_turn_and_resumes(clock: FakeClock) -> None:
    """Refused connections open the circuit: nothing fails, one probe per 1, 2, 4, 4 s."""
    start, health = clock(), make_health(clock, failures=3)
    intercom = RoutedIntercom(clock, refused_until(clock() + 20))
    sender = sender_for(clock, intercom, health)
    commands = [make_command(contact) for contact in "abc"]
    await bounded(asyncio.gather(*(sender.send(command) for command in commands)))
    assert intercom.accepted() == {command.command_id: 1 for command in commands}
    assert health.healthy
    opened = start + 2  # a and b slept 1 s each before c's failure, the third, opened it
    probes = [at - opened for _, at, _ in intercom.calls[3:-2]]
    assert probes == [1, 3, 7, 11, 15, 19]
    ids = [command_id for command_id, _, _ in intercom.calls[3:-2]]
    assert ids == [c.command_id for c in commands[2:] + commands[:2]] * 2  # turns rotate


async def test_one_commands_404s_never_open_the_circuit(clock: FakeClock) -> None:
    """Unknown contacts are dead-lettered at once; Intercom answering them proves it is up."""
    health = make_health(clock, failures=3)
    sender = sender_for(clock, RoutedIntercom(clock, fails_for("cmd-x", 404)), health)
    for _ in range(5):
        with pytest.raises(AttemptsExhaustedError):
            await sender.send(make_command(command_id="cmd-x"))
    assert health.healthy


async def test_a_5xx_for_one_command_while_others_succeed_is_dead_lettered(
    clock: FakeClock,
) -> None:
    """The poison command exhausts its 3 attempts; the others go through; the circuit stays shut."""
    states: list[State] = []
    health = make_health(clock, failures=3, on_change=lambda h: states.append(h.state))
    intercom = RoutedIntercom(clock, fails_for("cmd-poison"))
    sender = sender_for(clock, intercom, health)
    poison = sender.send(make_command(command_id="cmd-poison"))
    outcome = await bounded(
        asyncio.gather(poison, traffic(sender, clock, 6), return_exceptions=True)
    )
    assert isinstance(outcome[0], AttemptsExhaustedError)
    assert outcome[0].attempts == 3
    assert not isinstance(outcome[0], OutageOutlastedError)
    assert outcome[1] is None
    assert states == []


async def test_a_lone_command_failing_with_nothing_else_answered_is_held(
    clock: FakeClock,
) -> None:
    """Two refused attempts (its maximum) with no other call answered open the circuit instead."""
    health = make_health(clock, failures=5)
    intercom = RoutedIntercom(clock, refused_until(clock() + 10))
    command = make_command()
    await bounded(sender_for(clock, intercom, health, max_attempts=2).send(command))
    assert intercom.accepted() == {command.command_id: 1}
    assert len(intercom.calls) > 2


async def test_a_poison_command_holding_the_circuit_yields_its_turn(clock: FakeClock) -> None:
    """Others' probes heal the circuit; the poison command is then dead-lettered on its own."""
    health = make_health(clock, failures=5)
    intercom = RoutedIntercom(clock, fails_for("cmd-poison"))
    sender = sender_for(clock, intercom, health)
    poison = asyncio.create_task(sender.send(make_command(command_id="cmd-poison")))
    # its 3 failures, with nothing else answered, open the circuit
    await until(lambda: not health.healthy, "the circuit opened")
    await bounded(traffic(sender, clock, 8))
    with pytest.raises(AttemptsExhaustedError):
        await bounded(poison)
    assert len(intercom.accepted()) == 8


async def test_an_outage_past_the_horizon_dead_letters_loudly(clock: FakeClock) -> None:
    """After the horizon, held commands are retried as their own and dead-lettered, counted."""
    metrics = WriterMetrics()
    health = make_health(clock, failures=3, horizon=10.0, on_change=metrics.show)
    intercom = RoutedIntercom(clock, refused_until(float("inf")))
    sender = sender_for(clock, intercom, health, metrics=metrics)
    commands = [make_command(contact) for contact in "abc"]
    with structlog.testing.capture_logs() as logs:
        outcome = await bounded(
            asyncio.gather(*(sender.send(c) for c in commands), return_exceptions=True)
        )
    assert all(isinstance(o, OutageOutlastedError) for o in outcome)
    assert metrics.registry.get_sample_value("intercom_writer_outage_gave_up_total") == 3
    assert metrics.registry.get_sample_value("intercom_writer_circuit_state") == 2
    assert [e["event"] for e in logs if e["log_level"] == "critical"] == [
        "writer.outage_horizon_passed"
    ]


async def test_a_prober_cancelled_mid_call_hands_the_turn_on(clock: FakeClock) -> None:
    """The job probing when a rebalance drops it does not strand the other held commands."""
    health = make_health(clock, failures=1)
    first, second = make_command(command_id="a"), make_command(command_id="b")
    refused = errors.ConnectionFailedError("refused")
    intercom = RoutedIntercom(clock, lambda command_id, now: refused if command_id == "a" else None)
    sender = sender_for(clock, intercom, health)
    probing = asyncio.create_task(sender.send(first))
    await until(lambda: not health.healthy, "the circuit opened")
    intercom.hang.add(first.command_id)  # its probe call never answers
    waiting = asyncio.create_task(sender.send(second))
    await until(lambda: len(intercom.calls) == 2, "the probe call was made")
    probing.cancel()
    assert await bounded(waiting) == 1
    assert health.healthy
