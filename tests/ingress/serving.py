"""Serves a started Ingress to a test client on loopback, and stops both afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import RawTestServer, TestClient

from ingress.app import Ingress, Seams
from intercom_stream.settings import Settings


@asynccontextmanager
async def started(settings: Settings, seams: Seams | None = None) -> AsyncIterator[Ingress]:
    """Yield a started ingress; stop it afterwards."""
    ingress = Ingress(settings, seams)
    await ingress.start()
    try:
        yield ingress
    finally:
        await ingress.stop()


async def client_of(ingress: Ingress) -> TestClient:
    """Return a started test client of the ingress over loopback (the caller closes it)."""
    client = TestClient(RawTestServer(ingress.handle))
    await client.start_server()
    return client
