"""Wires the faust application: topics, tables, the notification agent and the web pages."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Any, Protocol

import faust

from intercom_stream.settings import Settings
from intercom_stream.topics import writer_app_id
from stream_app.continuity import Continuity, RangeReader
from stream_app.crm import register_crm
from stream_app.dead_letters import stop_consuming
from stream_app.dedup import Deduplicator
from stream_app.faust.batches import BatchWriter, batch_publisher
from stream_app.faust.declare import RELEASE_SECONDS, create_faust_app, json_table, raw_topic
from stream_app.faust.fetch import use_short_fetch_wait
from stream_app.faust.gate import TopicGate
from stream_app.faust.inloop import run_consumer_in_loop
from stream_app.faust.produce import dead_letter_sender
from stream_app.faust.runtime import use_uvloop
from stream_app.faust.seek import tracked_continuity
from stream_app.faust.tables import ChangelogWriter, DirectTable
from stream_app.handlers import register_handlers
from stream_app.metrics import WorkerMetrics
from stream_app.pipeline import Pipeline, RetryPolicy
from stream_app.plugins import load_plugins
from stream_app.ports import Flush
from stream_app.replay_lane import register_replay_lane
from stream_app.router import Router
from stream_app.rules import load_rules
from stream_app.sink import OutputSink
from stream_app.source import Source
from stream_app.views import register_views
from stream_app.writer.agent import register_writer
from stream_app.writer.config import WriterConfig


@dataclass(frozen=True)
class Tables:
    """The worker's changelog-backed tables."""

    dedup: Any
    conversations: Any
    contacts: Any

    def changelog_topics(self) -> list[str]:
        """Return the names of the tables' changelog topics."""
        return [t.changelog_topic_name for t in (self.dedup, self.conversations, self.contacts)]

    @classmethod
    def create(cls, app: faust.App, partitions: int) -> Tables:
        """Declare the tables on the app, each with as many partitions as the source topic."""
        return cls(
            json_table(app, "dedup", partitions),
            json_table(app, "conversations", partitions),
            json_table(app, "contacts", partitions),
        )


def build_router(settings: Settings) -> Router:
    """Return the router with the built-in handlers, the rules and the plugins."""
    router = register_handlers(Router(), load_rules(settings.rules_path))
    return load_plugins(router, settings.handler_plugins)


@dataclass(frozen=True)
class Outputs:
    """Where an actor's records go: the worker's batches and the app (for dead letters)."""

    app: faust.App
    batches: BatchWriter


def build_pipeline(
    outputs: Outputs, settings: Settings, metrics: WorkerMetrics, router: Router, tables: Tables
) -> tuple[Pipeline, Deduplicator, Flush]:
    """Return one actor's pipeline and deduplicator, writing its tables through one flush."""
    batches = outputs.batches
    changelog = ChangelogWriter(batches)
    sink = OutputSink(
        commands=batch_publisher(batches, settings.topic_commands),
        events={
            "conversations": batch_publisher(batches, settings.topic_events_conversations),
            "contacts": batch_publisher(batches, settings.topic_events_contacts),
        },
        conversations=DirectTable(tables.conversations, changelog),
        contacts=DirectTable(tables.contacts, changelog),
        flush=changelog.flush,
    )
    pipeline = Pipeline(
        router=router,
        sink=sink,
        send_dead_letter=dead_letter_sender(outputs.app, settings.topic_dead_letter),
        metrics=metrics,
        secrets=settings.client_secrets() if settings.worker_reverify_signatures else None,
        retry=RetryPolicy(settings.handler_max_attempts, settings.handler_backoff_seconds),
    )
    dedup = Deduplicator(DirectTable(tables.dedup, changelog), settings.dedup_ttl_seconds)
    return pipeline, dedup, changelog.flush


class Gate(Protocol):
    """Holds records until the topics they write are ready (TopicGate in the worker)."""

    async def wait(self) -> None:
        """Return once the topics are ready."""


@dataclass
class NotificationActor:
    """One partition's loop over notification events, as a plain object a test can feed."""

    pipeline: Pipeline
    dedup: Deduplicator
    continuity: Continuity
    gate: Gate
    flush: Flush

    async def run(self, events: AsyncIterable[Any]) -> None:
        """Handle each event in order; stop the worker on anything that escapes."""
        async for event in events:
            try:
                await self.gate.wait()
                await self.continuity.feed(Source.from_message(event.message), self.handle)
            except Exception as exc:  # noqa: BLE001 - escaping, faust would ack and commit it
                # The pipeline dead-letters every record it cannot process; what reaches here
                # (a dead letter not written, a skipped range not read again, a record that
                # cannot even be read, a failure of Kafka or of a table's topic) must stop
                # the worker before its offset is committed.
                stop_consuming(exc)

    async def handle(self, source: Source) -> None:
        """Process one record, then send its table changes before faust acknowledges it."""
        await self.pipeline.handle(source, self.dedup)
        await self.flush()


def create_app(settings: Settings, metrics: WorkerMetrics | None = None) -> faust.App:
    """Return the worker's faust App with its agents, tables and web pages registered."""
    use_uvloop()  # before faust creates its event loop
    app = create_faust_app(
        settings, settings.worker_app_id, settings.worker_web_port, settings.worker_datadir
    )
    use_short_fetch_wait(app)  # fetch.py: idle partitions must not hold records back for 1.5 s
    run_consumer_in_loop(app)  # inloop.py: no consumer thread, no hop between loops a fetch
    worker_metrics = metrics or WorkerMetrics()
    outputs = Outputs(app, BatchWriter(app))
    tables = Tables.create(app, settings.topic_partitions)
    router = build_router(settings)
    notifications = raw_topic(app, settings.topic_notifications, settings.topic_partitions)
    reader = RangeReader(settings.bootstrap_servers(), settings.worker_app_id)
    # Checked on the first record (once partitions are assigned), before any table is written.
    gate = TopicGate(
        app,
        [settings.topic_notifications, *tables.changelog_topics()],
        settings.topic_partitions,
        settings.worker_topics_wait_seconds,
    )

    # One actor per partition: a handler retrying with backoff holds only its own partition.
    @app.agent(notifications, name="notifications", isolated_partitions=True)
    async def process(stream: Any) -> None:
        pipeline, dedup, flush = build_pipeline(outputs, settings, worker_metrics, router, tables)
        continuity = tracked_continuity(app, reader, worker_metrics.reread.inc)
        await NotificationActor(pipeline, dedup, continuity, gate, flush).run(stream.events())

    outputs.batches.install(RELEASE_SECONDS)  # batches.py: submitted every 25 ms and on commit
    register_replay_lane(outputs, settings, worker_metrics, router, tables)  # docs/replay.md
    register_views(app, worker_metrics, tables.conversations, tables.contacts)
    return app  # runtime.worker freezes what exists by then (the collector skips it)


def create_writer_app(settings: Settings) -> faust.App:
    """Return the writer's faust App: its own process and consumer group.

    faust hands messages to a worker's agents one after another, so a writer pacing itself
    to Intercom's rate limit would stall the notification agent if both shared a worker.
    """
    use_uvloop()  # before faust creates its event loop
    app = create_faust_app(
        settings,
        writer_app_id(settings),
        settings.writer_web_port,
        settings.writer_datadir,
    )
    use_short_fetch_wait(app)  # fetch.py: as in the worker, idle partitions must not hold live ones
    run_consumer_in_loop(app)  # inloop.py: as in the worker
    config = WriterConfig.from_settings(settings)
    register_writer(app, config, dead_letter_sender(app, settings.topic_dead_letter))
    register_crm(app, settings)  # crm.contacts/crm.companies -> commands (docs/writer.md)
    return app
