"""Records sent with the app's producer; a send that fails stops the worker before a commit.

`app.producer.send` hands the bytes to aiokafka at once. faust's `Topic.send` goes through
`App.maybe_start_producer`, whose `@stampede` wrapper yields to the loop three times a record;
aiokafka then ships each record in a request of its own. faust's commit flushes the producer
before it commits, so a record enqueued before its source event is acknowledged is on Kafka
(or failed) before that offset is committed; a failure must stop the worker, which
`stop_if_failed` does from the acknowledgement's callback.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from stream_app.dead_letters import Send, stop_consuming
from stream_app.ports import Publish


def stop_if_failed(ack: asyncio.Future[Any]) -> None:
    """Stop consuming when a record was not written (before faust commits its source)."""
    if ack.cancelled():
        stop_consuming(asyncio.CancelledError("an output send was cancelled"))
    if (error := ack.exception()) is not None:
        stop_consuming(error)


def publisher(app: faust.App, topic: str) -> Publish:
    """Return a function that sends to the topic and returns the acknowledgement future."""

    async def publish(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        ack = await app.producer.send(topic, key, value, None, None, headers)
        ack.add_done_callback(stop_if_failed)  # type: ignore[attr-defined]
        return ack

    return publish


def dead_letter_sender(app: faust.App, topic: str) -> Send:
    """Return a function that sends a dead letter and waits for its acknowledgement."""

    async def send_letter(key: bytes | None, value: bytes) -> None:
        await (await app.producer.send(topic, key, value, None, None, None))

    return send_letter
