"""Fixtures of the ingress tests: hypothesis profiles, a fake producer and an app factory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, settings

from ingress.app import WEBHOOK_PATH, Seams
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from tests.conftest import TEST_SECRET
from tests.fakes.producer import FakeProducer, FakeProducers
from tests.ingress.serving import client_of, started

settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

JSON = {"Content-Type": "application/json"}
MakeClient = Callable[..., Awaitable[TestClient]]


def signed(body: bytes, secret: str = TEST_SECRET) -> dict[str, str]:
    """Return JSON headers with Intercom's signature of the body."""
    return {**JSON, "X-Hub-Signature": sign(body, secret.encode())}


@pytest.fixture
def producers() -> FakeProducers:
    """The fake producers the app under test creates."""
    return FakeProducers()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    """A fresh spool directory for one test."""
    return tmp_path / "spool"


@pytest.fixture
async def make_client(
    make_settings: Callable[..., Settings], producers: FakeProducers, spool_dir: Path
) -> AsyncIterator[MakeClient]:
    """Build test clients of the real ingress over loopback, writing to fake producers."""
    async with AsyncExitStack() as stack:

        async def build(seams: Seams | None = None, **overrides: object) -> TestClient:
            settings = make_settings(ingress_instance_id="ingress-test", **overrides)
            seams = seams or Seams(producer_factory=producers, spool_dir=spool_dir)
            ingress = await stack.enter_async_context(started(settings, seams))
            client = await client_of(ingress)
            stack.push_async_callback(client.close)
            return client

        yield build


@pytest.fixture
async def client(make_client: MakeClient, producers: FakeProducers) -> TestClient:
    """A test client of the app whose producer is connected."""
    test_client = await make_client()
    await producers.connected()
    return test_client


async def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """POST a body to the webhook and return status and JSON answer."""
    async with client.post(WEBHOOK_PATH, data=body, headers=headers) as response:
        return response.status, await response.json()


__all__ = ["JSON", "FakeProducer", "MakeClient", "post", "signed"]
