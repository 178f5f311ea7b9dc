"""aiokafka's connection, made to report a write to a closed socket under uvloop as it expects.

`AIOKafkaConnection.send` writes the request and turns an `OSError` into a
`KafkaConnectionError`, which every caller handles (it reconnects and retries). With asyncio, a
write to a transport the broker closed is dropped, and the read side fails the request. uvloop
raises `RuntimeError("unable to perform operation on <TCPTransport closed=True ...>; the
handler is closed")` instead (aio-libs/aiokafka#1038, open), which no caller expects. After a
broker restart it crashed the group coordinator's routine (the writer process stopped), or it
ended the client's metadata task (metadata.py), so the consumer never found its coordinator
again and committed nothing: the broker-kill reliability scenario failed about one run in four.

`report_closed_writes` wraps `send`: such a RuntimeError, on a transport that is closing,
closes the connection and raises `KafkaConnectionError`, as aiokafka does for an `OSError`.
"""

from __future__ import annotations

from typing import Any

from aiokafka.conn import AIOKafkaConnection, CloseReason
from aiokafka.errors import KafkaConnectionError

from stream_app.faust.patch import wrap_once


def closing(connection: Any) -> bool:
    """Whether the connection's transport is closed or being closed."""
    writer = connection._writer
    return writer is None or writer.transport.is_closing()


def guarded(send: Any) -> Any:
    """Return `send`, raising KafkaConnectionError for a write to a closed transport."""

    def _send(self: Any, request: Any, expect_response: bool = True) -> Any:
        try:
            return send(self, request, expect_response=expect_response)
        except RuntimeError as exc:
            if not closing(self):
                raise
            self.close(reason=CloseReason.CONNECTION_BROKEN)
            where = f"{self._host}:{self._port}"
            raise KafkaConnectionError(f"Connection at {where} broken: {exc}") from exc

    return _send


def report_closed_writes() -> None:
    """Make aiokafka connections report a write to a closed socket as retriable (idempotent)."""
    wrap_once(AIOKafkaConnection, "send", guarded)
