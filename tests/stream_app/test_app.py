"""A failed or cancelled output send stops the worker; a written one does not."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import pytest

from stream_app import app


class Stopped(Exception):
    """Raised instead of exiting the test process."""


def fake_stop(exc: BaseException) -> NoReturn:
    """Stand in for os._exit so the test can observe the decision."""
    raise Stopped(repr(exc))


@pytest.fixture(autouse=True)
def no_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the process exit with an exception for every test here."""
    monkeypatch.setattr(app, "stop_consuming", fake_stop)


async def test_an_acknowledged_send_lets_the_worker_go_on() -> None:
    """A send that Kafka acknowledged changes nothing."""
    ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ack.set_result(1)
    app.stop_if_failed(ack)


async def test_a_failed_send_stops_the_worker() -> None:
    """A send that failed stops consuming, with the error."""
    ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ack.set_exception(ConnectionError("broker gone"))
    with pytest.raises(Stopped, match="broker gone"):
        app.stop_if_failed(ack)


async def test_a_cancelled_send_stops_the_worker() -> None:
    """A send that was cancelled was not written either."""
    ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    ack.cancel()
    with pytest.raises(Stopped, match="cancelled"):
        app.stop_if_failed(ack)
