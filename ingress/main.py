"""Runs the ingress process until SIGTERM or SIGINT."""

from __future__ import annotations

from aiohttp import web

from ingress.app import create_app
from intercom_stream.settings import Settings


def serve(settings: Settings) -> int:
    """Serve the webhook endpoint on the configured host and port; return the exit code."""
    web.run_app(
        create_app(settings),
        host=settings.ingress_host,
        port=settings.ingress_port,
        shutdown_timeout=settings.ingress_shutdown_timeout_seconds,
        print=None,
    )
    return 0
