"""Operability endpoints: liveness, readiness (ok, degraded, unavailable) and metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingress.metrics import Metrics
from ingress.webhook import INTAKE

METRICS = web.AppKey("metrics", Metrics)


async def healthz(_: web.Request) -> web.Response:
    """Answer 200 while the process serves requests."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 when notifications can be made durable (degraded: via the spool), else 503."""
    intake = request.app.get(INTAKE)
    if intake is None:
        return web.json_response({"status": "starting"}, status=503)
    delivery = intake.delivery
    kafka, spool = delivery.kafka_healthy, delivery.spool
    status = "ok" if kafka and spool.depth == 0 else "degraded"
    if not (kafka or spool.writable):
        status = "unavailable"
    body = {
        "status": status,
        "kafka": kafka,
        "spool_writable": spool.writable,
        "spool_depth": spool.depth,
    }
    return web.json_response(body, status=503 if status == "unavailable" else 200)


async def metrics(request: web.Request) -> web.Response:
    """Expose the ingress metrics in the Prometheus text format."""
    payload = generate_latest(request.app[METRICS].registry)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
