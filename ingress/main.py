"""Runs the ingress process until SIGTERM or SIGINT, then shuts down gracefully.

On a signal the server stops accepting connections and waits up to the shutdown timeout for
requests in flight; then the ingress stops: the drainer stops, the producer is flushed (bounded),
and the spool is closed. Whatever is still spooled is drained by the next start. A second signal
exits at once.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import sys

import structlog
from aiohttp import web

from ingress.app import Ingress
from ingress.config import IngressConfig
from intercom_stream.settings import Settings

log = structlog.get_logger("ingress.main")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def event_loop() -> asyncio.AbstractEventLoop:
    """Return a uvloop event loop when uvloop is installed, else the standard one."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def watch_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Future[signal.Signals]:
    """Handle SIGTERM and SIGINT: the future resolves to the first; a second one exits at once.

    Exiting at once loses nothing answered: every 2xx is on Kafka or fsync'd to the spool.
    """
    arrived: asyncio.Future[signal.Signals] = loop.create_future()

    def note(sig: signal.Signals) -> None:
        if arrived.done():
            log.warning("ingress.forced_exit", signal=sig.name)
            sys.stdout.flush()
            os._exit(128 + sig)
        arrived.set_result(sig)

    for sig in SIGNALS:
        loop.add_signal_handler(sig, note, sig)
    return arrived


async def run(settings: Settings) -> None:
    """Start the ingress, serve until signalled, then close the server and stop the ingress."""
    loop = asyncio.get_running_loop()
    signalled, ingress = watch_signals(loop), Ingress(IngressConfig.from_settings(settings))
    await ingress.start()
    runner = web.ServerRunner(
        ingress.server(), shutdown_timeout=settings.ingress_shutdown_timeout_seconds
    )
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.ingress_host, settings.ingress_port).start()
        log.info("ingress.serving", host=settings.ingress_host, port=settings.ingress_port)
        log.info("ingress.stopping", signal=(await signalled).name)
    finally:
        try:
            await runner.cleanup()
        finally:
            await ingress.stop()


def serve(settings: Settings) -> int:
    """Serve the webhook endpoint on the configured host and port; return the exit code."""
    with asyncio.Runner(loop_factory=event_loop) as runner:
        runner.run(run(settings))
    return 0
