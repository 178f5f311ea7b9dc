"""aiokafka's connection under uvloop: a write to a closed socket (stream_app.faust.connection)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest

from stream_app.faust import connection

Check = Callable[[Any], Awaitable[None]]


def unguarded() -> Any:
    """Return aiokafka's own `send`, whether or not it is guarded now."""
    current = AIOKafkaConnection.send
    return getattr(current, "original", current)


async def connected(accepted: list[asyncio.StreamWriter]) -> tuple[Any, asyncio.Server]:
    """Return an aiokafka connection over a real loopback socket, and the server it reached."""

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn: Any = AIOKafkaConnection("127.0.0.1", port)
    conn._reader, conn._writer = await asyncio.open_connection("127.0.0.1", port)
    conn._read_task = asyncio.ensure_future(asyncio.Event().wait())  # no reader: none is needed
    conn._versions = {MetadataRequest.API_KEY: (0, 1)}
    return conn, server


def on_uvloop(check: Check, *, close_first: bool = True) -> None:
    """Run `check` on a connection (its transport closed first, by default) on a uvloop loop."""

    async def run() -> None:
        accepted: list[asyncio.StreamWriter] = []
        conn, server = await connected(accepted)
        if close_first:
            conn._writer.transport.close()
            await asyncio.sleep(0)  # uvloop releases the socket's handle on the next loop turn
        try:
            await check(conn)
        finally:
            conn.close()  # a no-op if the check closed it
            for writer in accepted:
                writer.close()
            server.close()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


def test_aiokafka_s_send_raises_runtime_error_on_a_closed_uvloop_transport() -> None:
    """The assumption behind the guard (aio-libs/aiokafka#1038): no KafkaError, a RuntimeError."""

    async def check(conn: Any) -> None:
        with pytest.raises(RuntimeError, match="handler is closed"):
            unguarded()(conn, MetadataRequest([]))

    on_uvloop(check)


def test_the_guarded_send_raises_a_connection_error_and_closes_the_connection() -> None:
    """A write to a closed transport is a KafkaConnectionError; the connection is closed."""

    async def check(conn: Any) -> None:
        with pytest.raises(KafkaConnectionError, match="broken"):
            connection.guarded(unguarded())(conn, MetadataRequest([]))
        assert conn._writer is None
        assert not conn.connected()

    on_uvloop(check)


def test_a_runtime_error_on_an_open_transport_is_not_disguised() -> None:
    """Only a closed transport's error is converted: any other RuntimeError propagates."""

    class Broken:
        def prepare(self, versions: Any) -> Any:
            raise RuntimeError("a bug, not a closed socket")

    async def check(conn: Any) -> None:
        with pytest.raises(RuntimeError, match="a bug"):
            connection.guarded(unguarded())(conn, Broken())
        assert conn._writer is not None

    on_uvloop(check, close_first=False)


def test_the_guard_is_installed_on_aiokafka_s_connection_class() -> None:
    """report_closed_writes replaces AIOKafkaConnection.send, the method every request uses."""
    connection.report_closed_writes()
    assert getattr(AIOKafkaConnection.send, "wrapped", False)
