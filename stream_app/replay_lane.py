"""The worker's replay lane: replayed notifications, processed after live ones.

`intercom-stream replay` writes selected notifications to `<notifications>.replay`, each with
`replay: true` (dedup lets it through on purpose). This agent runs them through the same
pipeline, tables and topics as the live agent, with two differences: before each record it
yields while the live lane of this worker is more than LIVE_LAG_RECORDS behind, and it sends
the commands of a record marked `x-replay-force-resend` with `force: true`, so the writer
sends them again; otherwise the writer's ledger skips commands Intercom already accepted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import faust
import structlog

from intercom_stream.settings import Settings
from intercom_stream.topics import replay_topic
from schemas import headers
from stream_app.continuity import Continuity, RangeReader
from stream_app.faust.declare import raw_topic
from stream_app.faust.gate import TopicGate
from stream_app.lag import LagCollector, faust_assignment, faust_offsets, lane_of_topic
from stream_app.metrics import WorkerMetrics
from stream_app.outputs import Output, SendCommand
from stream_app.router import Router
from stream_app.sink import OutputSink
from stream_app.source import Source

if TYPE_CHECKING:
    from stream_app.app import Tables

LIVE_LAG_RECORDS = 50
YIELD_SECONDS = 0.02


@dataclass
class LiveFirst:
    """Holds replay records while the live lane of this worker is behind."""

    topics: TopicGate
    lag: LagCollector
    live_topic: str
    sleep: Any = asyncio.sleep

    def live_lag(self) -> int:
        """Return how many live records this worker's assigned partitions have waiting."""
        parts = [p for t, p in self.lag.assigned() if t == self.live_topic]
        return sum(self.lag.partition_lag(self.live_topic, p)[0] or 0 for p in parts)

    async def wait(self) -> None:
        """Return once the topics are ready and live traffic is not waiting."""
        await self.topics.wait()
        while self.live_lag() > LIVE_LAG_RECORDS:
            await self.sleep(YIELD_SECONDS)  # a yield to the live agent, not a synchronisation


class ForcingSink:
    """Wraps the pipeline's sink: while `force` is set, commands go out with `force: true`."""

    def __init__(self, inner: OutputSink) -> None:
        """Wrap the sink; nothing is forced until told."""
        self.inner = inner
        self.force = False

    async def publish(self, outputs: list[Output]) -> list[Any]:
        """Publish the outputs, forcing the commands when the record asked for it."""
        if self.force:
            outputs = [forced(o) if isinstance(o, SendCommand) else o for o in outputs]
        return await self.inner.publish(outputs)


def forced(output: SendCommand) -> SendCommand:
    """Return the command output with `force: true`."""
    return SendCommand(output.command.model_copy(update={"force": True}))


def register_replay_lane(
    app: faust.App, settings: Settings, metrics: WorkerMetrics, router: Router, tables: Tables
) -> None:
    """Register the replay agent on the worker's app (same tables, its own topic)."""
    from stream_app.app import NotificationActor, build_pipeline

    topic_name = replay_topic(settings)
    topic = raw_topic(app, topic_name, settings.topic_partitions)
    ready = TopicGate(app, [topic_name, *tables.changelog_topics()], settings.topic_partitions,
                      settings.worker_topics_wait_seconds)  # fmt: skip
    lag = LagCollector(
        "", metrics.progress, faust_assignment(app), faust_offsets(app), lane_of_topic
    )
    gate = LiveFirst(ready, lag, settings.topic_notifications)
    reader = RangeReader(settings.bootstrap_servers(), settings.worker_app_id)

    @dataclass
    class ReplayActor(NotificationActor):
        """The live actor with forced commands for records that ask for a resend."""

        sink: ForcingSink

        async def handle(self, source: Source) -> None:
            """Process one replayed record, forcing its commands if it is so marked."""
            self.sink.force = source.header(headers.REPLAY_FORCE_RESEND) == b"true"
            replay_id = (source.header(headers.REPLAY_ID) or b"").decode(errors="replace")
            with structlog.contextvars.bound_contextvars(replay_id=replay_id):
                await super().handle(source)

    @app.agent(topic, name="replay", isolated_partitions=True)
    async def replay(stream: Any) -> None:
        pipeline, dedup, flush = build_pipeline(app, settings, metrics, router, tables)
        sink = ForcingSink(pipeline.sink)
        pipeline.sink = cast(OutputSink, sink)  # the pipeline only calls sink.publish
        continuity = Continuity(reader, metrics.reread.inc)
        await ReplayActor(pipeline, dedup, continuity, gate, flush, sink).run(stream.events())
