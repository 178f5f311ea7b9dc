"""A raw HTTP/1.1 client on real loopback sockets, for clients that trickle, idle or pile up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

HOST = "127.0.0.1"
TRICKLE_START = b"POST /webhooks/intercom HTTP/1.1\r\nHost: ingress\r\n"
BODY_HEAD = (
    b"POST /webhooks/intercom HTTP/1.1\r\nHost: ingress\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
)
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: ingress\r\n\r\n"
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Disconnect:
    """What a trickling client saw: seconds until the server closed, and the bytes it sent."""

    seconds: float
    received: bytes


async def connect(port: int | None) -> Connection:
    """Open a TCP connection to the server on loopback (a test client's port, once started)."""
    assert port is not None, "the test server has no port: it is not started"
    return await asyncio.open_connection(HOST, port)


async def read_answer(reader: asyncio.StreamReader, timeout: float = 10.0) -> Answer:
    """Read one answer (head, then a body of Content-Length bytes) within the timeout."""
    async with asyncio.timeout(timeout):
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")[:-2]
        headers = dict(_header(line) for line in lines)
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(int(status_line.split()[1]), headers, body)


def _header(line: str) -> tuple[str, str]:
    """Split a header line into its lower-case name and its value."""
    name, value = line.split(":", 1)
    return name.lower(), value.strip()


async def read_until_closed(reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
    """Return what arrives until the server closes (EOF or reset); fail after the timeout."""
    chunks = []
    async with asyncio.timeout(timeout):
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
    return b"".join(chunks)


async def feed(writer: asyncio.StreamWriter, interval: float, most: int, line: bytes) -> None:
    """Send the line every interval, at most `most` times, until the connection fails."""
    with contextlib.suppress(ConnectionError):
        for _ in range(most):
            await asyncio.sleep(interval)
            writer.write(line)
            await writer.drain()


async def close(writer: asyncio.StreamWriter) -> None:
    """Close the client side, ignoring a connection the server already reset."""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def trickle(
    port: int | None, start: bytes, line: bytes, interval: float, most: int = 60
) -> Disconnect:
    """Send `start`, then `line` every interval until the server closes; stop after `most` lines."""
    reader, writer = await connect(port)
    began = time.monotonic()
    writer.write(start)
    feeding = asyncio.create_task(feed(writer, interval, most, line))
    try:
        received = await read_until_closed(reader, interval * most + 5)
    finally:
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
        await close(writer)
    return Disconnect(time.monotonic() - began, received)


def status_of(received: bytes) -> int | None:
    """Return the status of the answer that starts these bytes, if any."""
    if not received.startswith(b"HTTP/1.1 "):
        return None
    return int(received.split(b" ", 2)[1])
