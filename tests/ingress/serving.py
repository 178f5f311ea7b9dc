"""Serves a started Ingress to a test client on loopback, and stops both afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestClient

from ingress.app import Ingress, Seams
from ingress.config import IngressConfig
from intercom_stream.settings import Settings


@asynccontextmanager
async def started(settings: Settings, seams: Seams | None = None) -> AsyncIterator[Ingress]:
    """Yield a started ingress; stop it afterwards."""
    ingress = Ingress(IngressConfig.from_settings(settings), seams)
    await ingress.start()
    try:
        yield ingress
    finally:
        await ingress.stop()


class IngressTestServer(BaseTestServer):
    """aiohttp's test server over the server the ingress process runs (`Ingress.server()`)."""

    def __init__(self, ingress: Ingress) -> None:
        """Serve this started ingress on a free loopback port."""
        super().__init__()
        self._ingress = ingress

    async def _make_runner(self, **_: Any) -> web.ServerRunner:
        """Return a runner of the ingress's own (guarded) low-level server."""
        return web.ServerRunner(self._ingress.server())


async def client_of(ingress: Ingress) -> TestClient:
    """Return a started test client of the ingress over loopback (the caller closes it)."""
    client: TestClient[Any, Any] = TestClient(IngressTestServer(ingress))
    await client.start_server()
    return client
