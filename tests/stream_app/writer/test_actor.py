"""The writer lane's actor (the agent's body) fed with plain events, without faust."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from schemas.commands import command_bytes
from stream_app.source import Source
from stream_app.writer.actor import CommandActor
from stream_app.writer.inflight import Inflight
from tests.stream_app.writer.conftest import make_command
from tests.support.waiting import until


class Lane:
    """Records what the actor did: gate waits, share refreshes, jobs, acks, drops and stops."""

    def __init__(self, gate_fails_at: int | None = None) -> None:
        """Fail the gate on the `gate_fails_at`-th wait (1-based), if given."""
        self.done: list[str] = []
        self.held: list[int] = []
        self.stops: list[str] = []
        self.release = asyncio.Event()
        self.release.set()
        self._gate_fails_at = gate_fails_at

    async def wait(self) -> None:
        """The lane's readiness gate."""
        self.done.append("gate")
        if self.done.count("gate") == self._gate_fails_at:
            raise ConnectionError("changelog topic lost")

    def refresh(self) -> None:
        """The share refresh."""
        self.done.append("share")

    async def process(self, source: Source, command: Any) -> None:
        """The processor's path for a valid command."""
        await self.release.wait()
        self.done.append(f"process {source.offset} {command.command_id}")

    async def reject(self, source: Source, error: Exception) -> None:
        """The processor's path for an invalid command (a dead letter)."""
        self.done.append(f"reject {source.offset} {type(error).__name__}")

    def forget(self, message: Any) -> None:
        """faust's unacked bookkeeping, let go of."""
        self.done.append(f"forget {message.offset}")

    def actor(self, inflight: Inflight) -> CommandActor:
        """Return an actor whose processor, gate, share, forget, gauge and stop are this lane."""
        processor: Any = self
        return CommandActor(processor, inflight, self, self.refresh, self.forget,
                            self.held.append, lambda exc: self.stops.append(repr(exc)))  # fmt: skip


async def events(values: list[bytes], done: list[str]) -> AsyncIterator[Any]:
    """Yield faust-shaped command events of partition 0 whose ack is recorded."""
    for offset, value in enumerate(values):
        message = SimpleNamespace(topic="c", partition=0, offset=offset, key=b"user_id:u-1",
                                  value=value, headers=[], timestamp=1.0, tp=("c", 0))  # fmt: skip
        yield SimpleNamespace(message=message, ack=lambda o=offset: done.append(f"ack {o}"))


async def test_each_command_is_gated_then_processed_and_acked_in_order() -> None:
    """Valid commands go to the processor, invalid ones to the dead letters; acks follow offsets."""
    lane, inflight = Lane(), Inflight(10, lambda exc: None)
    first, second = make_command(command_id="cmd-a"), make_command(command_id="cmd-b")
    values = [command_bytes(first), b'{"kind": "nonsense"}', command_bytes(second)]
    await lane.actor(inflight).run(events(values, lane.done))
    await until(lambda: not len(inflight), "every job acked")
    assert lane.done[:2] == ["gate", "share"]
    jobs = [step for step in lane.done if step.startswith(("process", "reject"))]
    assert sorted(jobs) == ["process 0 cmd-a", "process 2 cmd-b", "reject 1 ValidationError"]
    assert [step for step in lane.done if step.startswith("ack")] == ["ack 0", "ack 1", "ack 2"]
    assert len(lane.held) == 3


async def test_an_escaping_error_stops_consuming_and_submits_nothing() -> None:
    """A failure before a record is submitted stops consuming; that record is never acked."""
    lane, inflight = Lane(gate_fails_at=2), Inflight(10, lambda exc: None)
    values = [command_bytes(make_command()), command_bytes(make_command())]
    await lane.actor(inflight).run(events(values, lane.done))
    await until(lambda: not len(inflight), "the first job acked")
    assert lane.stops == ["ConnectionError('changelog topic lost')"]
    assert "ack 1" not in lane.done
    assert "ack 0" in lane.done


async def test_a_dropped_record_lets_go_of_its_message() -> None:
    """A job still running when its partition is revoked is forgotten, not acked."""
    lane, inflight = Lane(), Inflight(10, lambda exc: None)
    lane.release.clear()
    await lane.actor(inflight).run(events([command_bytes(make_command())], lane.done))
    assert lane.held == [1]
    assert inflight.drop_all() == 1
    await inflight.close()
    assert lane.done[-1] == "forget 0"
    assert "ack 0" not in lane.done
