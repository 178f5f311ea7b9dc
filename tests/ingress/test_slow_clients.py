"""Slow and excess clients over real loopback sockets: read deadline, idle close, connection cap."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ingress import connections
from ingress.connections import GuardedServer, Limits
from ingress.metrics import Metrics
from tests.ingress.conftest import MakeClient
from tests.ingress.raw_http import (
    BODY_HEAD,
    HEALTHZ,
    TRICKLE_START,
    close,
    connect,
    read_answer,
    read_until_closed,
    status_of,
    trickle,
)
from tests.support.waiting import until

READ = 0.5  # the read timeout of these tests, seconds
SLACK = 1.5  # how much later than due a deadline may fire on a busy machine


async def scrape(client: TestClient) -> dict[str, float]:
    """Return the ingress's metrics by sample name and labels."""
    async with client.get("/metrics") as response:
        text = await response.text()
    return {
        sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def server_of(client: TestClient) -> GuardedServer:
    """Return the ingress's low-level server behind a test client."""
    server = client.server.handler
    assert isinstance(server, GuardedServer)
    return server


@pytest.mark.parametrize(
    ("stage", "start", "line"),
    [("headers", TRICKLE_START, b"X-Slow: 1\r\n"), ("body", BODY_HEAD, b"{")],
    ids=["headers", "body"],
)
async def test_a_request_that_trickles_gets_a_json_408_and_the_connection_closed(
    make_client: MakeClient, stage: str, start: bytes, line: bytes
) -> None:
    """Headers, or a body, arriving a line or byte every READ/5 s: a JSON 408 at the deadline."""
    client = await make_client(ingress_read_timeout_seconds=READ)
    seen = await trickle(client.port, start, line, READ / 5)
    assert READ * 0.9 <= seen.seconds < READ + SLACK
    head, _, body = seen.received.partition(b"\r\n\r\n")
    assert status_of(seen.received) == 408
    assert b"Connection: close" in head
    answer = json.loads(body)
    assert answer["error"]["code"] == "request_timeout"
    assert f"X-Request-Id: {answer['request_id']}".encode() in head.split(b"\r\n")
    metrics = await scrape(client)
    assert metrics[f'ingress_connections_timed_out_total{{"stage": "{stage}"}}'] == 1


async def test_a_connection_that_sends_nothing_is_answered_408_and_closed(
    make_client: MakeClient,
) -> None:
    """A connection that never sends a byte is closed at the read deadline, not kept for ever."""
    client = await make_client(ingress_read_timeout_seconds=READ)
    reader, writer = await connect(client.port)
    began = time.monotonic()
    received = await read_until_closed(reader, READ + SLACK)
    await close(writer)
    assert time.monotonic() - began >= READ * 0.9
    assert status_of(received) == 408


async def test_an_idle_keep_alive_connection_is_closed(make_client: MakeClient) -> None:
    """After an answer, a connection left idle is closed after the keep-alive timeout."""
    client = await make_client(
        ingress_keepalive_timeout_seconds=READ, ingress_read_timeout_seconds=30
    )
    reader, writer = await connect(client.port)
    writer.write(HEALTHZ)
    assert (await read_answer(reader)).status == 200
    began = time.monotonic()
    assert await read_until_closed(reader, READ + SLACK) == b""
    await close(writer)
    assert time.monotonic() - began >= READ * 0.9


async def test_a_later_request_on_a_kept_alive_connection_has_its_own_deadline(
    make_client: MakeClient,
) -> None:
    """Idle time between requests is the keep-alive's; the read deadline starts at new bytes."""
    client = await make_client(
        ingress_keepalive_timeout_seconds=30, ingress_read_timeout_seconds=READ
    )
    reader, writer = await connect(client.port)
    writer.write(HEALTHZ)
    assert (await read_answer(reader)).status == 200
    await asyncio.sleep(READ * 2)  # idle for longer than the read timeout: still open
    writer.write(HEALTHZ)
    assert (await read_answer(reader)).status == 200
    began = time.monotonic()
    writer.write(TRICKLE_START)
    answer = await read_answer(reader, READ + SLACK)
    await close(writer)
    assert answer.status == 408
    assert time.monotonic() - began >= READ * 0.9


async def test_beyond_the_cap_a_connection_gets_503_and_is_closed(
    make_client: MakeClient,
) -> None:
    """With the cap reached, a new connection is answered 503 with Retry-After and closed."""
    client = await make_client(ingress_max_connections=3, ingress_read_timeout_seconds=30)
    server = server_of(client)
    held = [await connect(client.port) for _ in range(3)]
    await until(lambda: server.open == 3, "three connections open", 10, lambda: server.open)
    reader, writer = await connect(client.port)
    writer.write(HEALTHZ)
    answer = await read_answer(reader)
    assert await read_until_closed(reader) == b""
    await close(writer)
    assert (answer.status, answer.headers["retry-after"]) == (503, "30")
    assert answer.headers["connection"] == "close"
    assert json.loads(answer.body)["error"]["code"] == "too_many_connections"
    await close(held.pop()[1])
    await until(lambda: server.open == 2, "a slot freed", 10, lambda: server.open)
    metrics = await scrape(client)
    assert metrics["ingress_connections_rejected_total{}"] == 1
    assert metrics["ingress_connections_open{}"] == 3
    for _, held_writer in held:
        await close(held_writer)


class Transport:
    """A transport that records what is written to it and whether it was closed."""

    def __init__(self) -> None:
        """Start with nothing written, open."""
        self.written, self.closed = b"", False

    def write(self, data: bytes) -> None:
        """Record the data."""
        self.written += data

    def close(self) -> None:
        """Record the close."""
        self.closed = True


async def test_a_flood_of_refusals_is_counted_each_but_logged_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every refusal is answered and counted; the log gets one line, with the count, a second."""
    warnings: list[dict[str, object]] = []
    fake_log = SimpleNamespace(warning=lambda event, **fields: warnings.append(fields))
    monkeypatch.setattr(connections, "log", fake_log)
    server = GuardedServer(never, Limits(2.5, 1), metrics := Metrics())
    transports = [Transport() for _ in range(3)]
    for transport in transports:
        server.refuse(transport)  # type: ignore[arg-type]
    assert all(t.closed and t.written.startswith(b"HTTP/1.1 503 ") for t in transports)
    assert b"\r\nRetry-After: 3\r\n" in transports[0].written
    assert warnings == [{"refused": 1, "open": 0, "limit": 1}]
    assert metrics.registry.get_sample_value("ingress_connections_rejected_total") == 3


async def never(_: web.BaseRequest) -> web.StreamResponse:
    """A request handler the refusal test never calls."""
    raise AssertionError("not called")
