"""The worker's web pages: metrics and read-only projections, answered by the owning worker."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import generate_latest

from stream_app.metrics import WorkerMetrics


def register_views(
    app: faust.App, metrics: WorkerMetrics, conversations: Any, contacts: Any
) -> None:
    """Register /metrics, /conversations/{id} and /contacts/{id} on the worker's web server."""
    metrics.watch_consumer(app)

    @app.page("/metrics")
    async def metrics_page(view: Any, request: Any) -> Any:
        return view.text(generate_latest(metrics.registry).decode(), content_type="text/plain")

    @app.page("/conversations/{key}")
    @app.table_route(table=conversations, match_info="key")
    async def conversation(view: Any, request: Any, key: str) -> Any:
        return projection(view, conversations, key)

    @app.page("/contacts/{key}")
    @app.table_route(table=contacts, match_info="key")
    async def contact(view: Any, request: Any, key: str) -> Any:
        return projection(view, contacts, key)


def projection(view: Any, table: Any, key: str) -> Any:
    """Answer the table's value for the key as JSON, or 404."""
    value = table.get(key)
    if value is None:
        return view.json(
            {"error": {"code": "not_found", "message": f"no {table.name} {key}"}}, status=404
        )
    return view.json(value)
