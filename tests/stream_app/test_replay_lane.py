"""The replay lane's parts without faust: yielding to live lag, forcing resent commands."""

from __future__ import annotations

from typing import Any, cast

from stream_app.faust.gate import TopicGate
from stream_app.lag import LagCollector, Progress, lane_of_topic
from stream_app.outputs import Output, SendCommand
from stream_app.replay_lane import LIVE_LAG_RECORDS, ForcingSink, LiveFirst
from stream_app.sink import OutputSink
from tests.stream_app.writer.conftest import make_command


class ReadyGate:
    """A topic gate whose topics are ready."""

    async def wait(self) -> None:
        """Return at once."""


async def test_the_lane_waits_while_live_partitions_are_behind() -> None:
    """Each wait sleeps while the live lag is above the threshold, then lets the record go."""
    ends = {0: LIVE_LAG_RECORDS + 10, 1: 3}
    lag = LagCollector(
        "g", Progress(), lambda: [("live", 0), ("live", 1), ("live.replay", 0)],
        (lambda t, p: ends[p], lambda t, p: 0), lane_of_topic,
    )  # fmt: skip
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        ends[0] = 0  # the live agent caught up

    gate = LiveFirst(cast(TopicGate, ReadyGate()), lag, "live", sleep)
    assert gate.live_lag() == LIVE_LAG_RECORDS + 13
    await gate.wait()
    assert len(slept) == 1
    await gate.wait()
    assert len(slept) == 1


class Recorder:
    """A sink that records what it was asked to publish."""

    def __init__(self) -> None:
        """Start empty."""
        self.published: list[Output] = []

    async def publish(self, outputs: list[Output]) -> list[Any]:
        """Record the outputs."""
        self.published.extend(outputs)
        return []


async def test_commands_are_forced_only_for_records_that_ask() -> None:
    """force: true is set on the commands of a forced record, and on nothing else."""
    inner = Recorder()
    sink = ForcingSink(cast(OutputSink, inner))
    command = SendCommand(make_command())
    await sink.publish([command])
    sink.force = True
    await sink.publish([command])
    first, second = cast(list[SendCommand], inner.published)
    assert (first.command.force, second.command.force) == (False, True)
    assert first.command.command_id == second.command.command_id
