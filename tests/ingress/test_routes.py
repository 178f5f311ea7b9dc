"""Routing and answering on the low-level server: JSON 404/405/500, request ids, no 410 or 429."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import RawTestServer, TestClient

from ingress.answers import REQUEST_ID
from ingress.app import WEBHOOK_PATH
from ingress.metrics import Metrics
from ingress.routes import HttpRouter, Routes
from intercom_stream import samples
from tests.fakes.producer import FakeProducers
from tests.ingress.conftest import signed

COUNTED = "/counted"
RawClient = TestClient[web.BaseRequest, None]


async def ok(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Answer 200 with a small text body."""
    return web.Response(text="ok")


async def boom(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Fail with a defect."""
    raise RuntimeError("a defect")


async def gone(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Return a 410, which would disable Intercom's subscription."""
    return web.Response(status=410)


async def throttled(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Return a 429, which would make Intercom throttle the subscription."""
    return web.Response(status=429)


async def gone_raised(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Raise a 410 as an HTTP exception."""
    raise web.HTTPGone()


async def throttled_raised(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Raise a 429 as an HTTP exception."""
    raise web.HTTPTooManyRequests()


ROUTES: Routes = {
    COUNTED: {"GET": ok, "POST": boom},
    "/ok": {"GET": ok},
    "/boom": {"GET": boom},
    "/gone": {"GET": gone},
    "/throttled": {"GET": throttled},
    "/gone-raised": {"GET": gone_raised},
    "/throttled-raised": {"GET": throttled_raised},
}


@pytest.fixture
def metrics() -> Metrics:
    """Fresh metrics for one router."""
    return Metrics()


@pytest.fixture
async def router_client(metrics: Metrics) -> AsyncIterator[RawClient]:
    """A test client of an HTTP router over the small endpoints, counting answers on COUNTED."""
    client: RawClient = TestClient(RawTestServer(HttpRouter(ROUTES, metrics, COUNTED)))
    await client.start_server()
    yield client
    await client.close()


async def fetch(
    client: RawClient, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, Any, str, str | None]:
    """Send a request and return status, JSON body, request id header and Allow header."""
    async with client.request(method, path, headers=headers) as response:
        return (
            response.status,
            await response.json(),
            response.headers[REQUEST_ID],
            response.headers.get("Allow"),
        )


def answered(metrics: Metrics, status: int) -> float | None:
    """The count of answers with this status, None if none was ever counted."""
    return metrics.registry.get_sample_value("ingress_requests_total", {"status": str(status)})


async def test_unknown_path_gets_a_json_404_with_its_request_id(client: RawClient) -> None:
    """A path the ingress does not serve answers a JSON 404 whose request id is the header's."""
    status, body, ident, _ = await fetch(client, "GET", "/nowhere")
    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert "/nowhere" in body["error"]["message"]
    assert ident
    assert body["request_id"] == ident


async def test_webhook_with_another_method_gets_a_json_405_listing_allowed(
    client: RawClient,
) -> None:
    """GET on the webhook answers a JSON 405 whose Allow header lists HEAD and POST."""
    status, body, ident, allow = await fetch(client, "GET", WEBHOOK_PATH)
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed"
    assert body["request_id"] == ident
    assert allow == "HEAD, POST"


async def test_a_caller_sent_request_id_is_echoed(client: RawClient) -> None:
    """The caller's X-Request-Id comes back in the header and the JSON body."""
    status, body, ident, _ = await fetch(client, "GET", "/nowhere", {REQUEST_ID: "caller-42"})
    assert (status, ident, body["request_id"]) == (404, "caller-42", "caller-42")


async def test_each_request_gets_its_own_request_id(router_client: RawClient) -> None:
    """Without a caller's id, two requests get two different, non-empty ids."""
    first = await fetch(router_client, "GET", "/nowhere")
    second = await fetch(router_client, "GET", "/nowhere")
    assert first[2]
    assert second[2]
    assert first[2] != second[2]


async def test_a_successful_answer_carries_a_request_id(router_client: RawClient) -> None:
    """An endpoint's own answer gets the request id header too, and keeps its body."""
    async with router_client.get("/ok", headers={REQUEST_ID: "abc"}) as response:
        assert (response.status, await response.text()) == (200, "ok")
        assert response.headers[REQUEST_ID] == "abc"


async def test_router_refuses_an_unlisted_method_with_sorted_allow(
    router_client: RawClient,
) -> None:
    """A known path with another method answers a JSON 405 listing its methods, sorted."""
    status, body, ident, allow = await fetch(router_client, "PUT", COUNTED)
    assert (status, body["error"]["code"], allow) == (405, "method_not_allowed", "GET, HEAD, POST")
    assert body["request_id"] == ident


async def test_a_defect_gets_a_json_500_with_its_request_id(router_client: RawClient) -> None:
    """An endpoint raising RuntimeError answers a JSON 500 internal_error, leaking no detail."""
    status, body, ident, _ = await fetch(router_client, "GET", "/boom", {REQUEST_ID: "id-500"})
    assert status == 500
    assert body == {
        "error": {"code": "internal_error", "message": "the request could not be handled"},
        "request_id": "id-500",
    }
    assert ident == "id-500"
    assert "a defect" not in str(body)


@pytest.mark.parametrize("path", ["/gone", "/throttled", "/gone-raised", "/throttled-raised"])
async def test_410_and_429_become_a_json_503(router_client: RawClient, path: str) -> None:
    """A 410 or 429, returned or raised, is never sent: it becomes a JSON 503 unavailable."""
    status, body, ident, _ = await fetch(router_client, "GET", path, {REQUEST_ID: "id-503"})
    assert status == 503
    assert body["error"]["code"] == "unavailable"
    assert (body["request_id"], ident) == ("id-503", "id-503")


async def test_answers_on_the_counted_path_are_counted_by_status(
    router_client: RawClient, metrics: Metrics
) -> None:
    """Answers on the counted path are counted by their status, 405s included."""
    for _ in range(2):
        async with router_client.get(COUNTED) as response:
            assert response.status == 200
    assert (await fetch(router_client, "POST", COUNTED))[0] == 500
    assert (await fetch(router_client, "PUT", COUNTED))[0] == 405
    assert (answered(metrics, 200), answered(metrics, 500), answered(metrics, 405)) == (
        2.0,
        1.0,
        1.0,
    )


async def test_answers_on_other_paths_are_not_counted(
    router_client: RawClient, metrics: Metrics
) -> None:
    """Answers on other paths, and on unknown ones, leave the request counter empty."""
    async with router_client.get("/ok") as response:
        assert response.status == 200
    for method, path in [("GET", "/boom"), ("GET", "/gone"), ("GET", "/nowhere"), ("PUT", "/ok")]:
        await fetch(router_client, method, path)
    counted = [
        sample
        for family in metrics.registry.collect()
        if family.name == "ingress_requests"
        for sample in family.samples
        if sample.name == "ingress_requests_total"
    ]
    assert counted == []


async def test_a_replaced_status_is_counted_as_503(metrics: Metrics) -> None:
    """The counter sees the status actually sent (503), not the endpoint's 410."""
    router = HttpRouter({COUNTED: {"GET": gone}}, metrics, COUNTED)
    own: RawClient
    async with TestClient(RawTestServer(router)) as own:
        assert (await fetch(own, "GET", COUNTED))[0] == 503
    assert (answered(metrics, 503), answered(metrics, 410)) == (1.0, None)


async def refuse_with_allow(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Refuse with aiohttp's 405, which carries an Allow header."""
    raise web.HTTPMethodNotAllowed("PUT", ["GET"])


async def test_a_raised_http_error_keeps_its_headers_in_the_json_answer() -> None:
    """A raised HTTP error's own headers (here Allow) survive its conversion to JSON."""
    router = HttpRouter({"/refuse": {"GET": refuse_with_allow}}, Metrics(), COUNTED)
    client: RawClient = TestClient(RawTestServer(router))
    async with client, client.get("/refuse") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET"
        assert response.headers["Content-Type"].startswith("application/json")
        assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_head_on_a_get_route_answers_like_get_without_a_body(client: RawClient) -> None:
    """HEAD /healthz is served by GET's endpoint; aiohttp leaves the body out."""
    async with client.head("/healthz") as response:
        assert response.status == 200
        assert await response.read() == b""


async def test_a_client_expecting_100_continue_gets_it_and_is_accepted(
    client: RawClient, producers: FakeProducers
) -> None:
    """A POST with `Expect: 100-continue` is told to continue, then answered 200."""
    body = samples.notification_bytes(notification_id="notif-expect")
    async with asyncio.timeout(5):
        response = await client.post(WEBHOOK_PATH, data=body, headers=signed(body), expect100=True)
    async with response:
        assert (response.status, await response.json()) == (200, {"status": "accepted"})
    assert [sent.value for sent in producers.broker.acknowledged] == [body]


async def test_an_unknown_expectation_gets_a_json_417(client: RawClient) -> None:
    """An Expect header other than 100-continue is refused with a JSON 417."""
    status, body, ident, _ = await fetch(client, "POST", WEBHOOK_PATH, {"Expect": "magic"})
    assert status == 417
    assert body["error"]["code"] == "expectation_failed"
    assert body["request_id"] == ident


async def disconnected(_: web.BaseRequest, __: str) -> web.StreamResponse:
    """Fail as a body read does when the client goes away."""
    raise ConnectionResetError("Connection lost")


async def test_a_client_gone_mid_request_is_a_400_not_a_defect() -> None:
    """A connection error while reading the request answers 400 client_disconnected, not 500."""
    router = HttpRouter({COUNTED: {"POST": disconnected}}, metrics := Metrics(), COUNTED)
    client: RawClient = TestClient(RawTestServer(router))
    async with client, client.post(COUNTED) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "client_disconnected"
    assert answered(metrics, 400) == 1.0
    assert answered(metrics, 500) is None
