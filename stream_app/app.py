"""Wires the faust application: topics, tables, the notification agent and the web pages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import faust

from intercom_stream.settings import Settings
from intercom_stream.topics import writer_app_id
from stream_app.continuity import Continuity, RangeReader
from stream_app.dead_letters import Send, stop_consuming
from stream_app.dedup import Deduplicator
from stream_app.faust_seams import TopicGate
from stream_app.handlers import register_handlers
from stream_app.metrics import WorkerMetrics
from stream_app.pipeline import Pipeline, RetryPolicy
from stream_app.plugins import load_plugins
from stream_app.router import Router
from stream_app.rules import load_rules
from stream_app.sink import OutputSink, Publish
from stream_app.source import Source
from stream_app.views import register_views
from stream_app.writer.agent import register_writer


def create_faust_app(settings: Settings, app_id: str, web_port: int, datadir: str) -> faust.App:
    """Return a faust App configured from the settings, with nothing registered yet."""
    return faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers()],
        store=settings.worker_store,
        datadir=datadir,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        web_host=settings.worker_web_host,
        web_port=web_port,
        canonical_url=f"http://127.0.0.1:{web_port}",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.worker_session_timeout_seconds,
        broker_heartbeat_interval=settings.worker_session_timeout_seconds / 10,
        producer_acks=-1,
        autodiscover=False,
    )


def raw_topic(app: faust.App, name: str, partitions: int) -> Any:
    """Return a topic of raw bytes keys and values."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


def json_table(app: faust.App, name: str, partitions: int) -> Any:
    """Return a changelog-backed table keyed by raw string ids with JSON values."""
    schema: Any = faust.Schema(key_type=str, key_serializer="raw", value_serializer="json")
    return app.Table(name, schema=schema, partitions=partitions)


def publisher(topic: Any) -> Publish:
    """Return a function that sends to the topic and returns its acknowledgement future.

    faust's `Topic.send` returns once the record is queued; the future resolves on the
    broker's acknowledgement. A send that fails stops the worker at once: the record that
    produced it may already be acknowledged, and faust must not commit past it.
    """

    async def publish(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        ack = await topic.send(key=key, value=value, headers=headers)
        ack.add_done_callback(stop_if_failed)
        return ack

    return publish


def stop_if_failed(ack: asyncio.Future[Any]) -> None:
    """Stop consuming when an output was not written (before faust commits its source)."""
    if ack.cancelled():
        stop_consuming(asyncio.CancelledError("an output send was cancelled"))
    if (error := ack.exception()) is not None:
        stop_consuming(error)


def dead_letter_sender(topic: Any) -> Send:
    """Return a function that sends a dead letter and waits for its acknowledgement."""

    async def send(key: bytes | None, value: bytes) -> None:
        await (await topic.send(key=key, value=value))

    return send


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


def build_pipeline(
    app: faust.App, settings: Settings, metrics: WorkerMetrics, tables: Tables
) -> Pipeline:
    """Return the pipeline with its topics, tables, rules and retry policy."""
    parts = settings.topic_partitions
    sink = OutputSink(
        commands=publisher(raw_topic(app, settings.topic_commands, parts)),
        events={
            "conversations": publisher(raw_topic(app, settings.topic_events_conversations, parts)),
            "contacts": publisher(raw_topic(app, settings.topic_events_contacts, parts)),
        },
        conversations=tables.conversations,
        contacts=tables.contacts,
    )
    return Pipeline(
        router=load_plugins(
            register_handlers(Router(), load_rules(settings.rules_path)), settings.handler_plugins
        ),
        sink=sink,
        send_dead_letter=dead_letter_sender(raw_topic(app, settings.topic_dead_letter, parts)),
        metrics=metrics,
        secrets=settings.client_secrets() if settings.worker_reverify_signatures else None,
        retry=RetryPolicy(settings.handler_max_attempts, settings.handler_backoff_seconds),
    )


def create_app(settings: Settings, metrics: WorkerMetrics | None = None) -> faust.App:
    """Return the worker's faust App with its agents, tables and web pages registered."""
    app = create_faust_app(
        settings, settings.worker_app_id, settings.worker_web_port, settings.worker_datadir
    )
    metrics = metrics or WorkerMetrics()
    tables = Tables.create(app, settings.topic_partitions)
    pipeline = build_pipeline(app, settings, metrics, tables)
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
        dedup = Deduplicator(tables.dedup, settings.dedup_ttl_seconds)
        continuity = Continuity(reader, metrics.reread.inc)

        async def handle(source: Source) -> None:
            await pipeline.handle(source, dedup)

        async for event in stream.events():
            try:
                await gate.wait()
                await continuity.feed(Source.from_message(event.message), handle)
            except Exception as exc:  # noqa: BLE001 - escaping, faust would ack and commit it
                # The pipeline dead-letters every record it cannot process; what reaches here
                # (a dead letter not written, a skipped range not read again, a record that
                # cannot even be read, a failure of Kafka or of a table's topic) must stop
                # the worker before its offset is committed.
                stop_consuming(exc)

    register_views(app, metrics, tables.conversations, tables.contacts)
    return app


def create_writer_app(settings: Settings) -> faust.App:
    """Return the writer's faust App: its own process and consumer group.

    faust hands messages to a worker's agents one after another, so a writer pacing itself
    to Intercom's rate limit would stall the notification agent if both shared a worker.
    """
    app = create_faust_app(
        settings,
        writer_app_id(settings),
        settings.writer_web_port,
        settings.writer_datadir,
    )
    dead_letters = raw_topic(app, settings.topic_dead_letter, settings.topic_partitions)
    register_writer(app, settings, dead_letter_sender(dead_letters))
    return app
