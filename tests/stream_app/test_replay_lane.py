"""The replay lane's parts without faust: yielding to live lag, its commands' own topic."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from schemas.commands import parse_command
from schemas.headers import REPLAY, REPLAY_ID
from stream_app.faust.gate import TopicGate
from stream_app.lag import LagCollector, Progress, lane_of_topic
from stream_app.loop_lag import DECAY, LOOP_LATE_SECONDS, TICK_SECONDS, LoopLag
from stream_app.outputs import Emit, Output, SendCommand
from stream_app.replay_lane import (
    LIVE_LAG_RECORDS,
    LiveFirst,
    ReplaySink,
)
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


def test_one_stall_holds_replay_back_until_it_fades() -> None:
    """A 20 ms stall counts in full, then fades by DECAY a punctual tick until below the limit."""
    loop = LoopLag()
    loop.observe(0.020)
    assert loop.late == pytest.approx(0.020)
    ticks = 0
    while loop.late > LOOP_LATE_SECONDS:
        loop.observe(0.0)
        ticks += 1
    assert ticks == 7  # 20 ms * 0.8^7 = 4.2 ms
    assert loop.late == pytest.approx(0.020 * DECAY**7)


def test_a_later_smaller_stall_does_not_lower_the_lateness() -> None:
    """The lateness is the decayed peak: a smaller stall after a large one changes nothing."""
    loop = LoopLag()
    loop.observe(0.050)
    loop.observe(0.010)
    assert loop.late == pytest.approx(0.050 * DECAY)


async def test_the_lane_waits_while_the_event_loop_runs_late() -> None:
    """A loop measured 50 ms late holds replay records until it is punctual again."""
    now = [0.0]
    ticks: list[float] = []

    async def late_sleep(seconds: float) -> None:
        ticks.append(seconds)
        now[0] += seconds + 0.05
        if len(ticks) == 3:
            raise asyncio.CancelledError  # three ticks measured; stop like a worker stopping

    loop = LoopLag(clock=lambda: now[0], sleep=late_sleep)
    with pytest.raises(asyncio.CancelledError):
        await loop.run()
    assert ticks == [TICK_SECONDS] * 3
    assert loop.late > LOOP_LATE_SECONDS
    lag = LagCollector("g", Progress(), lambda: [], (lambda t, p: 0, lambda t, p: 0), lane_of_topic)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        loop.observe(0.0)  # punctual again, a little more each time

    await LiveFirst(cast(TopicGate, ReadyGate()), lag, "live", sleep, loop).wait()
    assert slept, "the lane did not hold back while the loop was late"
    assert loop.late <= LOOP_LATE_SECONDS


class Recorder:
    """A sink (and a publisher) that records what it was asked to publish."""

    def __init__(self) -> None:
        """Start empty."""
        self.published: list[Output] = []
        self.records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []

    async def publish(self, outputs: list[Output]) -> list[Any]:
        """Record the outputs."""
        self.published.extend(outputs)
        return []

    async def __call__(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        """Record one command record."""
        self.records.append((key, value, headers))
        return "ack"


async def test_commands_go_to_the_replay_command_publisher_marked_and_forced_if_asked() -> None:
    """Commands leave through the replay publisher with the replay headers; force: true only for
    records that ask; every other output goes through the pipeline's sink."""
    inner, commands = Recorder(), Recorder()
    sink = ReplaySink(cast(OutputSink, inner), commands)
    command = SendCommand(make_command())
    event = Emit("contacts", "c-1", cast(Any, None))
    sink.replay_id = b"r-1"
    assert await sink.publish([command, event]) == ["ack"]
    sink.force = True
    await sink.publish([command])
    assert inner.published == [event]
    first, second = (parse_command(value) for _, value, _ in commands.records)
    assert (first.force, second.force) == (False, True)
    assert first.command_id == second.command_id == command.command.command_id
    for _, _, record_headers in commands.records:
        assert (REPLAY, b"true") in record_headers
        assert (REPLAY_ID, b"r-1") in record_headers
