"""Registers the writer agent, its idempotency ledger and its web pages on the worker's app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
import structlog
from prometheus_client import generate_latest

from intercom_stream.settings import Settings
from stream_app.dead_letters import DeadLetterSend, stop_consuming
from stream_app.faust.declare import ledger_table, raw_topic
from stream_app.faust.gate import TopicGate
from stream_app.faust.runtime import assigned_partitions, flow_active, forget_unacked
from stream_app.source import Source
from stream_app.writer.breaker import BreakerPolicy, OutcomeWindow
from stream_app.writer.client import Connection, IntercomClient
from stream_app.writer.health import Health, HealthPolicy
from stream_app.writer.inflight import Inflight
from stream_app.writer.ledger import Ledger
from stream_app.writer.limiter import RateLimiter
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.processor import CommandProcessor, parse
from stream_app.writer.sender import Backoff, Sender
from stream_app.writer.services import register_writer_state

log = structlog.get_logger("stream_app.writer.agent")
REVOKE_POLL_SECONDS = 0.1


@dataclass
class Writer:
    """The writer's long-lived parts, shared by the agent and the web pages."""

    settings: Settings
    metrics: WriterMetrics
    health: Health
    limiter: RateLimiter

    def partitions(self, app: faust.App) -> int:
        """Return how many command partitions this instance is assigned (-1: unknown yet)."""
        return assigned_partitions(app, self.settings.topic_commands)

    def refresh_share(self, app: faust.App) -> None:
        """Adjust the limiter to the current partition assignment."""
        mine = self.partitions(app)
        if mine > 0:
            self.limiter.set_fraction(mine / self.settings.topic_partitions)
            self.metrics.share.set(self.limiter.share)


def build_health(settings: Settings, metrics: WriterMetrics) -> Health:
    """Return the writer's health (circuit and auth halt), configured from the settings."""
    breaker = BreakerPolicy(
        settings.writer_circuit_failures,
        settings.writer_circuit_window_seconds,
        settings.writer_circuit_failure_ratio,
    )
    policy = HealthPolicy(
        settings.writer_probe_first_seconds,
        settings.writer_backoff_cap_seconds,
        settings.writer_outage_horizon_seconds,
    )
    return Health(OutcomeWindow(breaker), policy, on_change=metrics.show)


def build_writer(settings: Settings) -> Writer:
    """Return the writer's parts, unauthorised from the start when no token is set."""
    metrics = WriterMetrics()
    health = build_health(settings, metrics)
    if not settings.intercom_access_token.get_secret_value().strip():
        health.refuse("INTERCOM_ACCESS_TOKEN is empty: refusing to send")
    return Writer(settings, metrics, health, RateLimiter(settings.writer_calls_per_window))


async def watch_revocations(app: faust.App, inflight: Inflight) -> None:
    """Drop unacknowledged jobs when a rebalance suspends the stream, so it need not drain."""
    while True:
        await asyncio.sleep(REVOKE_POLL_SECONDS)
        if not flow_active(app) and len(inflight):
            log.info("writer.rebalance", dropped=inflight.drop_all())


def register_writer(app: faust.App, settings: Settings, send_dead_letter: DeadLetterSend) -> None:
    """Register the command agent, the ledger table and /writer/{metrics,health} on the app."""
    writer = build_writer(settings)
    state = register_writer_state(app, settings)  # contact cache and recipe progress
    commands = raw_topic(app, settings.topic_commands, settings.topic_partitions)
    table = ledger_table(
        app,
        "writer-ledger",
        settings.topic_partitions,
        "Command ids Intercom accepted: [accept time in ms, partition].",
    )
    ledger = Ledger(
        table, settings.writer_ledger_ttl_seconds, on_scan=writer.metrics.ledger_size.set
    )

    gate = TopicGate(
        app,
        [settings.topic_commands, table.changelog_topic_name],
        settings.topic_partitions,
        settings.worker_topics_wait_seconds,
    )

    @app.agent(commands, name="intercom-writer", concurrency=1)
    async def write(stream: Any) -> None:
        async with IntercomClient(Connection.from_settings(settings)) as client:
            backoff = Backoff(settings.writer_max_attempts, settings.writer_backoff_cap_seconds)
            sender = Sender(client, writer.limiter, writer.health, backoff, writer.metrics)
            processor = CommandProcessor(
                sender,
                ledger,
                send_dead_letter,
                writer.metrics,
                caches=state.caches,
                progress=state.progress,
            )
            inflight = Inflight(settings.writer_max_in_flight, stop_consuming)
            watcher = asyncio.create_task(watch_revocations(app, inflight))
            try:
                async for event in stream.noack().events():
                    try:
                        await gate.wait()  # the ledger's changelog must take writes first
                        writer.refresh_share(app)
                        await submit(inflight, processor, event, app)
                    except Exception as exc:  # noqa: BLE001 - an escape would end the agent
                        stop_consuming(exc)  # nothing past this record is acked: exit, resume
                    writer.metrics.in_flight.set(len(inflight))
                    del event  # an unacked event kept alive would stall a rebalance
            finally:
                watcher.cancel()
                await inflight.close()

    register_pages(app, writer)


async def submit(
    inflight: Inflight, processor: CommandProcessor, event: Any, app: faust.App
) -> None:
    """Hand one command record to the in-flight window (invalid ones are dead-lettered there)."""
    source = Source.from_message(event.message)
    parsed = parse(source)
    if isinstance(parsed, Exception):
        job, contact = (lambda: processor.reject(source, parsed)), None
    else:
        job, contact = (lambda: processor.process(source, parsed)), parsed.contact_key()
    forget = partial(forget_unacked, app, event.message)
    await inflight.submit(event.message.tp, contact, event.ack, job, forget)


def register_pages(app: faust.App, writer: Writer) -> None:
    """Expose the writer's metrics and health on the worker's web server."""
    writer.metrics.watch(app, writer.limiter)

    @app.page("/writer/metrics")
    async def metrics_page(view: Any, request: Any) -> Any:
        body = generate_latest(writer.metrics.registry).decode()
        return view.text(body, content_type="text/plain")

    @app.page("/writer/health")
    async def health_page(view: Any, request: Any) -> Any:
        body = writer.health.report()
        body.update(partitions=writer.partitions(app), window_share=writer.limiter.share)
        return view.json(body, status=200 if writer.health.healthy else 503)
