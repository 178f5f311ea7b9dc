"""The HTTP boundary against the fake Intercom: headers sent, statuses mapped to error classes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.support.processes import free_port
from intercom_stream.settings import Settings
from stream_app.writer import errors
from stream_app.writer.client import Accepted, Connection, IntercomClient
from tests.stream_app.writer.conftest import make_command


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    """A fake Intercom on loopback."""
    server = FakeIntercom(limit=5)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def writer_settings(make_settings: Callable[..., Settings], fake: FakeIntercom) -> Settings:
    """Settings pointing the writer at the fake."""
    return make_settings(intercom_api_url=fake.url, intercom_access_token=DEFAULT_TOKEN)


async def send(settings: Settings, contact: str = "u-1") -> Accepted:
    """Send one command and return what the client returned."""
    method, path, body = make_command(contact).request()
    async with IntercomClient(Connection.from_settings(settings)) as client:
        return await client.call(method, path, body, "cmd-x")


@pytest.mark.parametrize(
    ("status", "error", "retriable", "halts"),
    [
        (400, errors.InvalidRequestError, False, False),
        (401, errors.AuthError, False, True),
        (403, errors.AuthError, False, True),
        (404, errors.NotFoundError, False, False),
        (409, errors.UnexpectedStatusError, False, False),
        (422, errors.InvalidRequestError, False, False),
        (429, errors.RateLimitedError, True, False),
        (500, errors.ServerError, True, False),
        (503, errors.ServerError, True, False),
    ],
)
def test_status_maps_to_an_error_class_carrying_the_retry_decision(
    status: int, error: type[errors.WriterError], retriable: bool, halts: bool
) -> None:
    """Every Intercom status becomes the class whose attributes say retry, halt or dead-letter."""
    body = {"type": "error.list", "request_id": "req-1", "errors": [{"code": "c", "message": "m"}]}
    made = errors.error_for_status(status, body, errors.RateHeaders(reset=123.0))
    assert type(made) is error
    assert (made.retriable, made.halts_sending, made.request_id) == (retriable, halts, "req-1")
    assert "req-1" in str(made)
    assert "c: m" in str(made)


async def test_accepted_call_sends_auth_version_and_command_id(
    writer_settings: Settings, fake: FakeIntercom
) -> None:
    """A 202 returns the rate headers; the fake saw the bearer token, version and command id."""
    accepted = await send(writer_settings)
    assert accepted.status == 202
    assert (accepted.rate.limit, accepted.rate.remaining) == (5, 4)
    assert accepted.rate.reset is not None
    assert accepted.rate.reset % 10 == 0
    assert fake.accepted() == {"cmd-x": 1}


async def test_unknown_user_raises_not_found_with_intercom_request_id(
    writer_settings: Settings, fake: FakeIntercom
) -> None:
    """A 404 keeps Intercom's error body and request id."""
    fake.faults.unknown_users.add("ghost")
    with pytest.raises(errors.NotFoundError) as caught:
        await send(writer_settings, "ghost")
    assert caught.value.request_id
    assert caught.value.request_id.startswith("req-")
    assert caught.value.errors[0]["code"] == "not_found"


async def test_over_the_window_limit_raises_rate_limited_until_reset(
    writer_settings: Settings, fake: FakeIntercom
) -> None:
    """The sixth call in a window of five is a 429 whose retry time is the window's reset."""
    fake.clock = lambda: 1_763_700_005.0  # mid-window, so no boundary passes during the test
    for _ in range(5):
        await send(writer_settings)
    with pytest.raises(errors.RateLimitedError) as caught:
        await send(writer_settings)
    assert caught.value.retry_after == 1_763_700_010
    assert caught.value.rate is not None
    assert caught.value.rate.remaining == 0


async def test_wrong_token_raises_auth_error(
    make_settings: Callable[..., Settings], fake: FakeIntercom
) -> None:
    """A token Intercom does not know halts sending."""
    settings = make_settings(intercom_api_url=fake.url, intercom_access_token="wrong")
    with pytest.raises(errors.AuthError):
        await send(settings)


async def test_empty_token_refuses_to_send(
    make_settings: Callable[..., Settings], fake: FakeIntercom
) -> None:
    """Without a token nothing reaches Intercom (fail closed)."""
    settings = make_settings(intercom_api_url=fake.url, intercom_access_token="")
    with pytest.raises(errors.MissingTokenError):
        await send(settings)
    assert fake.calls == []


async def test_connection_refused_is_a_retriable_connection_error(
    make_settings: Callable[..., Settings],
) -> None:
    """An aiohttp connection error is translated at the boundary, chained `from` it."""
    settings = make_settings(
        intercom_api_url=f"http://127.0.0.1:{free_port()}", intercom_access_token="t"
    )
    with pytest.raises(errors.ConnectionFailedError) as caught:
        await send(settings)
    assert caught.value.retriable
    assert isinstance(caught.value.__cause__, aiohttp.ClientError)


async def test_slow_answer_is_a_retriable_timeout(
    make_settings: Callable[..., Settings], fake: FakeIntercom
) -> None:
    """The total timeout becomes RequestTimeoutError."""
    fake.faults.latency = 1.0
    settings = make_settings(
        intercom_api_url=fake.url,
        intercom_access_token=DEFAULT_TOKEN,
        writer_total_timeout_seconds=0.1,
    )
    with pytest.raises(errors.RequestTimeoutError) as caught:
        await send(settings)
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_non_json_error_body_is_kept_readable(
    make_settings: Callable[..., Settings],
) -> None:
    """A proxy's HTML 502 still yields a ServerError with the text kept."""

    async def bad_gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<h1>bad</h1>")

    app = web.Application()
    app.router.add_post("/events", bad_gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        settings = make_settings(
            intercom_api_url=f"http://127.0.0.1:{port}", intercom_access_token="t"
        )
        with pytest.raises(errors.ServerError, match="bad"):
            await send(settings)
    finally:
        await runner.cleanup()
