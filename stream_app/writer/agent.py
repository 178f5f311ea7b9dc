"""Registers the writer's two lanes (live and replay commands), its ledger and its web pages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
import structlog
from prometheus_client import generate_latest

from stream_app.dead_letters import DeadLetterSend, stop_consuming
from stream_app.faust.declare import ledger_table, raw_topic
from stream_app.faust.gate import TopicGate
from stream_app.faust.intake import use_intake
from stream_app.faust.runtime import assigned_partitions, flow_active, forget_unacked
from stream_app.lag import app_lag_collector, lane_of_topic
from stream_app.writer.actor import CommandActor
from stream_app.writer.breaker import OutcomeWindow
from stream_app.writer.claims import Claims
from stream_app.writer.client import IntercomClient
from stream_app.writer.config import WriterConfig, WriterTopics
from stream_app.writer.health import Health
from stream_app.writer.inflight import Inflight
from stream_app.writer.ledger import Ledger
from stream_app.writer.limiter import Pacer, RateLimiter
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.processor import CommandProcessor
from stream_app.writer.replay import (
    REPLAY_MAX_IN_FLIGHT,
    LiveCommandsFirst,
    Ready,
    SparePacer,
)
from stream_app.writer.sender import Backoff, Sender
from stream_app.writer.services import WriterState, register_writer_state

log = structlog.get_logger("stream_app.writer.agent")
REVOKE_POLL_SECONDS = 0.1


@dataclass
class Writer:
    """The writer's long-lived parts, shared by the agent and the web pages."""

    topics: WriterTopics
    metrics: WriterMetrics
    health: Health
    limiter: RateLimiter

    def partitions(self, app: faust.App) -> int:
        """Return how many command partitions this instance is assigned (-1: unknown yet)."""
        return assigned_partitions(app, self.topics.commands)

    def refresh_share(self, app: faust.App) -> None:
        """Adjust the limiter to the current partition assignment."""
        mine = self.partitions(app)
        if mine > 0:
            self.limiter.set_fraction(mine / self.topics.partitions)
            self.metrics.share.set(self.limiter.share)


def build_writer(config: WriterConfig) -> Writer:
    """Return the writer's parts, unauthorised from the start when no token is set."""
    metrics = WriterMetrics()
    health = Health(OutcomeWindow(config.breaker), config.health, on_change=metrics.show)
    if not config.connection.token.get_secret_value().strip():
        health.refuse("INTERCOM_ACCESS_TOKEN is empty: refusing to send")
    return Writer(config.topics, metrics, health, RateLimiter(config.calls_per_window))


async def watch_revocations(app: faust.App, inflight: Inflight) -> None:
    """Drop unacknowledged jobs when a rebalance suspends the stream, so it need not drain."""
    while True:
        await asyncio.sleep(REVOKE_POLL_SECONDS)
        if not flow_active(app) and len(inflight):
            log.info("writer.rebalance", dropped=inflight.drop_all())


@dataclass(frozen=True)
class Lane:
    """One command topic the writer consumes: its agent, how its calls are paced, its window."""

    agent: str
    topic: str
    pacer: Pacer
    max_in_flight: int
    ready: Ready  # waited for before each record
    taken: Callable[[str, int, int], None] = lambda topic, partition, offset: None  # an Intake's


@dataclass(frozen=True)
class WriterParts:
    """What both lanes share: the budget, the health, the ledger, the tables, the claims."""

    config: WriterConfig
    writer: Writer
    ledger: Ledger
    state: WriterState
    send_dead_letter: DeadLetterSend
    claims: Claims

    def processor(self, client: IntercomClient, pacer: Pacer) -> CommandProcessor:
        """Return a command processor whose calls are paced by `pacer`."""
        config, writer = self.config, self.writer
        backoff = Backoff(config.max_attempts, config.backoff_cap_seconds)
        sender = Sender(client, pacer, writer.health, backoff, writer.metrics)
        caches, progress = self.state.caches, self.state.progress
        return CommandProcessor(sender, self.ledger, self.send_dead_letter, writer.metrics,
                                caches=caches, progress=progress, claims=self.claims)  # fmt: skip


def build_ledger(app: faust.App, config: WriterConfig, writer: Writer) -> tuple[Ledger, str]:
    """Declare the ledger table; return the ledger and the name of its changelog topic."""
    table = ledger_table(
        app,
        "writer-ledger",
        config.topics.partitions,
        "Command ids Intercom accepted: [accept time in ms, partition].",
    )
    ledger = Ledger(table, config.ledger_ttl_seconds, on_scan=writer.metrics.ledger_size.set)
    return ledger, table.changelog_topic_name


def register_writer(app: faust.App, config: WriterConfig, send_dead_letter: DeadLetterSend) -> None:
    """Register the live and replay command agents, the ledger and /writer/{metrics,health}."""
    writer, topics = build_writer(config), config.topics
    state = register_writer_state(app, topics)  # contact cache and recipe progress
    ledger, changelog = build_ledger(app, config, writer)
    live, replay = topics.commands, topics.replay_commands
    gate = TopicGate(app, [live, replay, changelog], topics.partitions, topics.wait_seconds)
    parts = WriterParts(config, writer, ledger, state, send_dead_letter, Claims())
    window = config.max_in_flight
    register_lane(app, parts, Lane("intercom-writer", live, writer.limiter, window, gate))
    # Replayed commands: spare budget only, a smaller window, after live ones (docs/replay.md).
    spare, replay_window = SparePacer(writer.limiter), min(window, REPLAY_MAX_IN_FLIGHT)
    first = LiveCommandsFirst(gate, app_lag_collector(app, writer.metrics.progress), live)
    intake = use_intake(app, [replay])  # intake.py: replayed commands reach faust a few at a time
    intake.allowance = first.allowance
    app.task(first.loop.run)  # measures the loop until the writer stops
    lane = Lane("replay-writer", replay, spare, replay_window, first, intake.take)
    register_lane(app, parts, lane)
    register_pages(app, writer)


def register_lane(app: faust.App, parts: WriterParts, lane: Lane) -> None:
    """Register the agent that sends one lane's commands."""
    config = parts.config
    topic = raw_topic(app, lane.topic, config.topics.partitions)

    @app.agent(topic, name=lane.agent, concurrency=1)
    async def write(stream: Any) -> None:
        async with IntercomClient(config.connection) as client:
            inflight = Inflight(lane.max_in_flight, stop_consuming)
            actor = command_actor(app, parts, lane, parts.processor(client, lane.pacer), inflight)
            watcher = asyncio.create_task(watch_revocations(app, inflight))
            try:
                await actor.run(stream.noack().events())
            finally:
                watcher.cancel()
                await inflight.close()


def command_actor(
    app: faust.App, parts: WriterParts, lane: Lane, processor: CommandProcessor, inflight: Inflight
) -> CommandActor:
    """Return the lane's actor over this app's assignment, unacked records and gauge."""
    held = parts.writer.metrics.in_flight.labels(lane_of_topic(lane.topic))
    refresh, forget = partial(parts.writer.refresh_share, app), partial(forget_unacked, app)
    return CommandActor(
        processor, inflight, lane.ready, refresh, forget, held.set, taken=lane.taken
    )


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
