"""The ingress: its parts (spool, producer link, persistence, drainer), their lifecycle and routes.

It serves on aiohttp's low-level server (`Ingress.server`), dispatching on exact paths itself:
the webhook is the hot path, and the router and middleware chain of `web.Application` cost
about a fifth of its throughput.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import structlog
from aiohttp import web

from ingress import health
from ingress.config import IngressConfig
from ingress.connections import GuardedServer, Limits, LowLevelHandler
from ingress.metrics import Metrics
from ingress.persistence import Persistence
from ingress.producer import durable_producer
from ingress.producer_link import ProducerFactory, ProducerLink
from ingress.routes import HttpRouter, Routes
from ingress.spool import Drainer, Fsync, Spool
from ingress.webhook import Intake, head, receive

log = structlog.get_logger("ingress.app")
WEBHOOK_PATH = "/webhooks/intercom"
FINISH_SECONDS = 5.0


def _report_drainer_death(drainer: asyncio.Task[None]) -> None:
    """Log a drainer that died of an error: the spool no longer drains until a restart."""
    if not drainer.cancelled() and (error := drainer.exception()) is not None:
        log.error("spool.drainer_failed", error=repr(error), exc_info=error)


async def _not_started(_: web.BaseRequest) -> web.StreamResponse:
    """Answer 503 while the ingress is not started."""
    raise web.HTTPServiceUnavailable(text="the ingress is not started")


@dataclass(frozen=True)
class Seams:
    """What tests may replace: the producer, fsync, the wall clock and the produce timeout."""

    producer_factory: ProducerFactory | None = None
    fsync: Fsync = os.fsync
    clock: Callable[[], float] = time.time
    produce_timeout: float | None = None
    spool_dir: Path | None = field(default=None)


def instance_id(configured: str) -> str:
    """Return the configured instance id, else host name plus a short random suffix."""
    return configured or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"


def routes(intake: Intake) -> Routes:
    """Return the endpoints by path and method."""
    return {
        WEBHOOK_PATH: {"POST": partial(receive, intake), "HEAD": head},
        "/healthz": {"GET": health.healthz},
        "/readyz": {"GET": partial(health.readyz, intake.persistence)},
        "/metrics": {"GET": partial(health.metrics, intake.metrics)},
    }


class Ingress:
    """Owns the ingress's parts: start() before serving, stop() after the server closed.

    `handle` answers one request: 503 until start(), then the HTTP router.
    """

    def __init__(self, config: IngressConfig, seams: Seams | None = None) -> None:
        """Keep the configuration (its secrets were checked when it was built)."""
        self._config = config
        self._seams = seams or Seams()
        self.metrics = Metrics()
        self.intake: Intake | None = None
        self.handle: LowLevelHandler = _not_started
        self._parts: tuple[ProducerLink, Spool, Drainer, asyncio.Task[None]] | None = None

    def _factory(self, ident: str) -> ProducerFactory:
        """Return the producer factory: the seam's, else librdkafka's durable producer."""
        config = self._config
        return self._seams.producer_factory or (
            lambda: durable_producer(
                list(config.bootstrap_servers), f"ingress-{ident}", config.max_body_bytes
            )
        )

    async def start(self) -> None:
        """Open the spool, start connecting to Kafka and start draining the spool."""
        config, seams, ident = self._config, self._seams, instance_id(self._config.instance_id)
        spool = Spool(seams.spool_dir or config.spool_dir, seams.fsync)
        await spool.open()
        link = ProducerLink(self._factory(ident))
        link.start()
        timeout = seams.produce_timeout or config.produce_timeout
        persistence = Persistence(link, spool, self.metrics, timeout)
        self.metrics.track(lambda: spool.depth, lambda: persistence.kafka_healthy)
        draining = Drainer(link, spool, persistence, self.metrics)
        drainer = asyncio.create_task(draining.run())
        drainer.add_done_callback(_report_drainer_death)
        self._parts = (link, spool, draining, drainer)
        self.intake = self._intake(ident, persistence)
        self.handle = HttpRouter(routes(self.intake), self.metrics, WEBHOOK_PATH)

    def _intake(self, ident: str, persistence: Persistence) -> Intake:
        """Return what the webhook needs: secrets, limits, topics, persistence and metrics."""
        config = self._config
        return Intake(
            config.secrets, ident, config.max_body_bytes, config.notifications_topic,
            config.dead_letter_topic, persistence, self.metrics, self._seams.clock,
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop draining, flush the producer (bounded), mark what landed, close the spool."""
        if self._parts is None:
            return
        link, spool, draining, drainer = self._parts
        self._parts = None
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)
        await link.close()
        try:
            await asyncio.wait_for(draining.finish(), FINISH_SECONDS)
        except (TimeoutError, OSError) as exc:
            log.warning("spool.finish_failed", error=repr(exc), action="resent on next start")
        await spool.close()

    def server(self) -> web.Server:
        """Return the guarded low-level server over this started ingress, without an access log."""
        config = self._config
        limits = Limits(config.read_timeout, config.max_connections)
        server = GuardedServer(
            self.handle, limits, self.metrics, access_log=None,
            keepalive_timeout=config.keepalive_timeout,
        )  # fmt: skip
        self.metrics.track_connections(lambda: server.open)
        return server
