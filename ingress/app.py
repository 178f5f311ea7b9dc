"""Builds the ingress aiohttp application: routes, middleware, and the lifecycle of its parts."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from ingress import answers, health
from ingress.delivery import Delivery
from ingress.drain import Drainer
from ingress.metrics import Metrics
from ingress.segments import Fsync
from ingress.spool import Spool
from ingress.webhook import INTAKE, Intake, head, receive
from ingress.writer import ProducerFactory, ProducerLink, durable_producer
from intercom_stream.settings import Settings

WEBHOOK_PATH = "/webhooks/intercom"
Context = Callable[[web.Application], AsyncIterator[None]]


@dataclass(frozen=True)
class Seams:
    """What tests may replace: the producer, fsync, the wall clock and the produce timeout."""

    producer_factory: ProducerFactory | None = None
    fsync: Fsync = os.fsync
    clock: Callable[[], float] = time.time
    produce_timeout: float | None = None
    spool_dir: Path | None = field(default=None)


def instance_id(settings: Settings) -> str:
    """Return the configured instance id, else host name plus a short random suffix."""
    return settings.ingress_instance_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"


def ingress_context(settings: Settings, metrics: Metrics, seams: Seams) -> Context:
    """Return a cleanup context that opens the spool, connects Kafka and drains; then closes all."""
    secrets, ident = settings.client_secrets(), instance_id(settings)
    factory = seams.producer_factory or (
        lambda: durable_producer(
            settings.bootstrap_servers(), f"ingress-{ident}", settings.ingress_max_body_bytes
        )
    )

    async def context(app: web.Application) -> AsyncIterator[None]:
        spool = Spool(seams.spool_dir or Path(settings.ingress_spool_dir), seams.fsync)
        await spool.open()
        link = ProducerLink(factory)
        link.start()
        timeout = seams.produce_timeout or settings.ingress_produce_timeout_seconds
        delivery = Delivery(link, spool, metrics, timeout)
        metrics.track(lambda: spool.depth, lambda: delivery.kafka_healthy)
        drainer = asyncio.create_task(Drainer(link, spool, delivery, metrics).run())
        app[INTAKE] = Intake(
            secrets, ident, settings.ingress_max_body_bytes, settings.topic_notifications,
            settings.topic_dead_letter, delivery, seams.clock,
        )  # fmt: skip
        try:
            yield
        finally:
            drainer.cancel()
            await asyncio.gather(drainer, return_exceptions=True)
            await link.close()
            await spool.close()

    return context


def create_app(settings: Settings, seams: Seams | None = None) -> web.Application:
    """Return the ingress application; fails closed when no client secret is configured."""
    settings.client_secrets()
    metrics = Metrics()
    app = web.Application(
        middlewares=[answers.middleware(metrics, WEBHOOK_PATH)],
        client_max_size=settings.ingress_max_body_bytes,
    )
    app[health.METRICS] = metrics
    app.cleanup_ctx.append(ingress_context(settings, metrics, seams or Seams()))
    app.router.add_post(WEBHOOK_PATH, receive)
    app.router.add_route("HEAD", WEBHOOK_PATH, head)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    return app
