"""Answers whether a Kafka broker responds to a Metadata request (stdlib only, no venv needed)."""

from __future__ import annotations

import socket
import struct
import sys

CORRELATION_ID = 7


def metadata_request() -> bytes:
    """Build a Metadata v0 request for all topics (kept by Kafka 3.x and 4.x)."""
    client_id = b"intercom-stream-probe"
    body = struct.pack(">hhih", 3, 0, CORRELATION_ID, len(client_id)) + client_id
    body += struct.pack(">i", 0)
    return struct.pack(">i", len(body)) + body


def read_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly size bytes or raise ConnectionError."""
    chunks = b""
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return chunks


def broker_count(host: str, port: int, timeout: float) -> int:
    """Send a Metadata request and return how many brokers the answer lists."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(metadata_request())
        (size,) = struct.unpack(">i", read_exact(sock, 4))
        payload = read_exact(sock, size)
    correlation, brokers = struct.unpack(">ii", payload[:8])
    if correlation != CORRELATION_ID:
        raise ConnectionError(f"unexpected correlation id {correlation}")
    return int(brokers)


def main(argv: list[str]) -> int:
    """Exit 0 when the broker at host:port answers with at least one broker."""
    host, _, port = (argv[1] if len(argv) > 1 else "127.0.0.1:9092").rpartition(":")
    try:
        count = broker_count(host or "127.0.0.1", int(port), timeout=2.0)
    except (OSError, ValueError, struct.error) as exc:
        print(f"no answer from {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0 if count > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
