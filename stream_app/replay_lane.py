"""The worker's replay lane: replayed notifications, processed after live ones.

`intercom-stream replay` writes selected notifications to `<notifications>.replay`, each with
`replay: true` (dedup lets it through on purpose). This agent runs them through the same
pipeline, tables and topics as the live agent, with three differences: it is handed records
(by the consumer's intake, stream_app/faust/intake.py) and processes them only while the live
lane of this worker is at most LIVE_LAG_RECORDS behind and its event loop is punctual; its commands
go to the replay command topic `<commands>.replay`, marked `replay: true`, which the writer
sends only with the budget live commands leave; and it sends the commands of a record marked
`x-replay-force-resend` with `force: true`, so the writer sends them again (otherwise the
writer's ledger skips commands Intercom already accepted).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import structlog

from intercom_stream.settings import Settings
from intercom_stream.topics import replay_commands_topic, replay_topic
from schemas import headers
from schemas.commands import command_record
from stream_app.continuity import RangeReader
from stream_app.faust.batches import batch_publisher
from stream_app.faust.declare import raw_topic
from stream_app.faust.gate import TopicGate
from stream_app.faust.intake import use_intake
from stream_app.faust.seek import tracked_continuity
from stream_app.lag import LagCollector, faust_assignment, faust_offsets, lane_of_topic
from stream_app.loop_lag import LOOP_LATE_SECONDS, LoopLag
from stream_app.metrics import WorkerMetrics
from stream_app.outputs import Output, SendCommand
from stream_app.ports import Publish
from stream_app.router import Router
from stream_app.sink import OutputSink
from stream_app.source import Source

if TYPE_CHECKING:
    from stream_app.app import Outputs, Tables

LIVE_LAG_RECORDS = 8  # about one live record in progress per partition; more is a queue
WINDOW_RECORDS = 4  # replayed records handed to faust and not yet taken by the lane, at most
YIELD_SECONDS = 0.02


@dataclass
class LiveFirst:
    """Holds replay records while the live lane of this worker is behind or its loop is busy."""

    topics: TopicGate
    lag: LagCollector
    live_topic: str
    sleep: Any = asyncio.sleep
    loop: LoopLag = field(default_factory=LoopLag)

    def live_lag(self) -> int:
        """Return how many live records this worker's assigned partitions have waiting."""
        return self.lag.topic_lag(self.live_topic)

    def busy(self) -> bool:
        """Whether live records wait or the event loop is running late."""
        return self.live_lag() > LIVE_LAG_RECORDS or self.loop.late > LOOP_LATE_SECONDS

    def allowance(self, in_flight: int) -> int:
        """Return how many replayed records the consumer may hand to faust now (its Intake)."""
        return 0 if self.busy() else max(0, WINDOW_RECORDS - in_flight)

    async def wait(self) -> None:
        """Return once the topics are ready and live traffic is not waiting."""
        await self.topics.wait()
        while self.busy():
            await self.sleep(YIELD_SECONDS)  # a yield to the live agent, not a synchronisation


Header = tuple[str, bytes]


class ReplaySink:
    """Wraps the pipeline's sink: commands go to the replay command topic, marked replay.

    The writer consumes that topic at lower priority (docs/replay.md). While `force` is set,
    the commands go out with `force: true`; every one carries `replay: true` and the replay id.
    """

    def __init__(self, inner: OutputSink, commands: Publish) -> None:
        """Wrap the sink; `commands` publishes to the replay command topic."""
        self.inner = inner
        self.commands = commands
        self.force = False
        self.replay_id = b""

    async def publish(self, outputs: list[Output]) -> list[Any]:
        """Publish the commands to the replay lane and everything else through the inner sink."""
        acks = [await self.commands(*self.record(o)) for o in outputs if isinstance(o, SendCommand)]
        rest = [o for o in outputs if not isinstance(o, SendCommand)]
        return acks + await self.inner.publish(rest)

    def record(self, output: SendCommand) -> tuple[bytes, bytes, list[Header]]:
        """Return the command's record, forced if asked, with the replay headers."""
        command = forced(output).command if self.force else output.command
        key, value, extra = command_record(command)
        return key, value, [*extra, (headers.REPLAY, b"true"), (headers.REPLAY_ID, self.replay_id)]


def forced(output: SendCommand) -> SendCommand:
    """Return the command output with `force: true`."""
    return SendCommand(output.command.model_copy(update={"force": True}))


def register_replay_lane(
    outputs: Outputs, settings: Settings, metrics: WorkerMetrics, router: Router, tables: Tables
) -> None:
    """Register the replay agent on the worker's app (same tables, its own topic)."""
    from stream_app.app import NotificationActor, build_pipeline

    app = outputs.app
    topic_name = replay_topic(settings)
    intake = use_intake(app, [topic_name])  # intake.py: replayed records reach faust a few a time
    topic = raw_topic(app, topic_name, settings.topic_partitions)
    written = [topic_name, replay_commands_topic(settings), *tables.changelog_topics()]
    ready = TopicGate(app, written, settings.topic_partitions, settings.worker_topics_wait_seconds)
    lag = LagCollector(
        "", metrics.progress, faust_assignment(app), faust_offsets(app), lane_of_topic
    )
    gate = LiveFirst(ready, lag, settings.topic_notifications)
    intake.allowance = gate.allowance
    commands = batch_publisher(outputs.batches, written[1])
    reader = RangeReader(settings.bootstrap_servers(), settings.worker_app_id)

    @dataclass
    class ReplayActor(NotificationActor):
        """The live actor whose commands go to the replay command topic, forced if asked."""

        sink: ReplaySink

        async def handle(self, source: Source) -> None:
            """Process one replayed record, forcing its commands if it is so marked."""
            intake.take(source.topic, source.partition, source.offset)
            self.sink.force = source.header(headers.REPLAY_FORCE_RESEND) == b"true"
            self.sink.replay_id = source.header(headers.REPLAY_ID) or b""
            replay_id = self.sink.replay_id.decode(errors="replace")
            with structlog.contextvars.bound_contextvars(replay_id=replay_id):
                await super().handle(source)

    app.task(gate.loop.run)  # measures the loop until the worker stops

    @app.agent(topic, name="replay", isolated_partitions=True)
    async def replay(stream: Any) -> None:
        pipeline, dedup, flush = build_pipeline(outputs, settings, metrics, router, tables)
        sink = ReplaySink(pipeline.sink, commands)
        pipeline.sink = cast(OutputSink, sink)  # the pipeline only calls sink.publish
        continuity = tracked_continuity(app, reader, metrics.reread.inc)
        await ReplayActor(pipeline, dedup, continuity, gate, flush, sink).run(stream.events())
