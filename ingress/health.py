"""Operability endpoints: liveness, readiness (ok, degraded, unavailable) and metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingress.metrics import Metrics
from ingress.persistence import Persistence


async def healthz(_: web.BaseRequest, __: str) -> web.Response:
    """Answer 200 while the process serves requests."""
    return web.json_response({"status": "ok"})


def readiness(persistence: Persistence) -> tuple[int, dict[str, object]]:
    """Return the readiness status code and body: ok, degraded (spooling) or unavailable."""
    kafka, spool = persistence.kafka_healthy, persistence.spool
    status = "ok" if kafka and spool.depth == 0 else "degraded"
    if not (kafka or spool.writable):
        status = "unavailable"
    body = {
        "status": status,
        "kafka": kafka,
        "spool_writable": spool.writable,
        "spool_depth": spool.depth,
    }
    return (503 if status == "unavailable" else 200), body


async def readyz(persistence: Persistence, _: web.BaseRequest, __: str) -> web.Response:
    """Answer 200 when notifications can be made durable (degraded: via the spool), else 503."""
    status, body = readiness(persistence)
    return web.json_response(body, status=status)


async def metrics(ingress_metrics: Metrics, _: web.BaseRequest, __: str) -> web.Response:
    """Expose the ingress metrics in the Prometheus text format."""
    payload = generate_latest(ingress_metrics.registry)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
