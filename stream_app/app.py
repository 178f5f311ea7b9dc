"""Wires the faust application: topics, the notification agent and the worker's web pages."""

from __future__ import annotations

import os
from typing import Any

import faust
import structlog
from prometheus_client import generate_latest

from intercom_stream.settings import Settings
from stream_app.dead_letters import DeadLetterWriteError
from stream_app.handlers import register_handlers
from stream_app.metrics import WorkerMetrics
from stream_app.pipeline import Pipeline
from stream_app.router import Router
from stream_app.source import Source
from stream_app.writer.agent import register_writer

log = structlog.get_logger("stream_app.app")
EXIT_DEAD_LETTER_FAILED = 70


def create_faust_app(settings: Settings) -> faust.App:
    """Return a faust App configured from the settings, with nothing registered yet."""
    return faust.App(
        settings.worker_app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers()],
        store=settings.worker_store,
        datadir=settings.worker_datadir,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        web_host=settings.worker_web_host,
        web_port=settings.worker_web_port,
        consumer_auto_offset_reset="earliest",
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


def stop_consuming(exc: DeadLetterWriteError) -> None:
    """Exit at once, so the offset of a record that was not dead-lettered is never committed."""
    log.critical("worker.stopping", reason="dead-letter write failed", error=str(exc))
    os._exit(EXIT_DEAD_LETTER_FAILED)


def create_app(settings: Settings, metrics: WorkerMetrics | None = None) -> faust.App:
    """Return the worker's faust App with its agent and web pages registered."""
    app = create_faust_app(settings)
    metrics = metrics or WorkerMetrics()
    notifications = raw_topic(app, settings.topic_notifications, settings.topic_partitions)
    dead_letters = raw_topic(app, settings.topic_dead_letter, settings.topic_partitions)

    async def send_dead_letter(key: bytes | None, value: bytes) -> None:
        await (await dead_letters.send(key=key, value=value))

    pipeline = Pipeline(register_handlers(Router()), send_dead_letter, metrics)
    register_writer(app, settings, send_dead_letter)

    @app.agent(notifications, name="notifications", concurrency=1)
    async def process(stream: Any) -> None:
        async for event in stream.events():
            try:
                await pipeline.handle(Source.from_message(event.message))
            except DeadLetterWriteError as exc:
                stop_consuming(exc)

    @app.page("/metrics")
    async def metrics_page(view: Any, request: Any) -> Any:
        return view.text(generate_latest(metrics.registry).decode(), content_type="text/plain")

    return app
