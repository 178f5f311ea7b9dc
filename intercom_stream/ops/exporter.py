"""A small Prometheus exporter of what only Kafka knows: dead letters and the replay backlog.

It reads the dead-letter topic and its resolutions (bounded, up to their current ends) every
interval and serves the figures on /metrics: unresolved dead letters by stage, the age of the
oldest one, and how many replayed notifications the worker still has to process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from intercom_stream.ops import dlq, replay_state
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_topic

log = structlog.get_logger("intercom_stream.ops.exporter")
STAGES = ("ingress", "verify", "parse", "handler", "validate", "writer")


class OpsMetrics:
    """The exporter's gauges, refreshed from Kafka."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        """Create the gauges in a registry of their own."""
        self.settings, self.clock = settings, clock
        self.registry = CollectorRegistry()
        self.unresolved = self._gauge(
            "intercom_stream_dlq_unresolved", "Dead letters not requeued or discarded.", ("stage",)
        )
        self.oldest = self._gauge(
            "intercom_stream_dlq_oldest_unresolved_age_seconds",
            "Age of the oldest dead letter not requeued or discarded (0 when none).",
        )
        self.records = self._gauge(
            "intercom_stream_dlq_records", "Records retained on the dead-letter topic."
        )
        self.replay_remaining = self._gauge(
            "intercom_stream_replay_remaining_records",
            "Replayed notifications on the replay topic the worker has not processed yet.",
        )
        self.up = self._gauge(
            "intercom_stream_ops_exporter_up", "1 when the last read of Kafka succeeded."
        )

    def _gauge(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        """Return a gauge registered in this registry."""
        return Gauge(name, documentation, list(labels), registry=self.registry)

    async def refresh(self) -> None:
        """Read Kafka and update every gauge (up=0 and a warning when Kafka cannot be read)."""
        try:
            found = await dlq.load(self.settings)
            remaining = await replay_state.remaining(self.settings, replay_topic(self.settings))
        except Exception as exc:  # noqa: BLE001 - the exporter reports the failure and goes on
            log.warning("exporter.refresh_failed", error=repr(exc))
            self.up.set(0)
            return
        self.show(found, remaining)

    def show(self, found: dlq.Inventory, remaining: int) -> None:
        """Set the gauges from an inventory of dead letters and the replay backlog."""
        by_stage = Counter(str(e.letter.stage) for e in found.entries if e.resolution is None)
        for stage in STAGES:
            self.unresolved.labels(stage).set(by_stage.get(stage, 0))
        self.oldest.set(dlq.oldest_unresolved_age(found, self.clock()))
        self.records.set(len(found.entries) + len(found.unreadable))
        self.replay_remaining.set(remaining)
        self.up.set(1)


async def serve(settings: Settings, host: str, port: int, interval: float) -> None:
    """Serve /metrics and refresh the figures every interval until cancelled."""
    metrics = OpsMetrics(settings)

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("exporter.serving", host=host, port=port, interval=interval)
    try:
        while True:
            await metrics.refresh()
            await asyncio.sleep(interval)  # the refresh period, not a synchronisation
    finally:
        await runner.cleanup()
