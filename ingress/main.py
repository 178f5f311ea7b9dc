"""Runs the ingress process until SIGTERM or SIGINT, then shuts down gracefully.

On a signal aiohttp stops accepting connections, waits up to the shutdown timeout for requests
in flight, then runs the cleanup context: the drainer stops, the producer is flushed (bounded),
and the spool is closed. Whatever is still spooled is drained by the next start.
"""

from __future__ import annotations

import asyncio
import importlib

from aiohttp import web

from ingress.app import create_app
from intercom_stream.settings import Settings


def event_loop() -> asyncio.AbstractEventLoop:
    """Return a uvloop event loop when uvloop is installed, else the standard one."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def serve(settings: Settings) -> int:
    """Serve the webhook endpoint on the configured host and port; return the exit code."""
    web.run_app(
        create_app(settings),
        host=settings.ingress_host,
        port=settings.ingress_port,
        shutdown_timeout=settings.ingress_shutdown_timeout_seconds,
        access_log=None,
        print=None,
        loop=event_loop(),
    )
    return 0
