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

from stream_app.dead_letters import DeadLetterSend, Headers, stop_consuming
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


def release_batches(app: faust.App) -> int:
    """Make every batch aiokafka holds ready to send now, and wake its sender; count them.

    aiokafka lingers each partition's batch on its own timer and keeps one request in flight
    per broker, so with a timer per partition a request carries the few batches whose linger
    happened to end. Releasing them all at once sends one request with every partition's
    records. Private attributes: faust's `Producer._producer`, aiokafka's
    `MessageAccumulator._batches` and `_waiter_future`, `MessageBatch._linger_time`.
    """
    producer = app.producer._producer  # type: ignore[attr-defined]
    if producer is None:
        return 0
    accumulator = producer._message_accumulator
    released = 0
    for batches in accumulator._batches.values():
        for batch in batches:
            batch._linger_time = 0.0
            released += 1
    if released and not accumulator._waiter_future.done():
        accumulator._waiter_future.set_result(None)
    return released


def dead_letter_sender(app: faust.App, topic: str) -> DeadLetterSend:
    """Return a function that sends a dead letter with its headers and waits for the ack."""

    async def send_letter(key: bytes | None, value: bytes, headers: Headers) -> None:
        await (await app.producer.send(topic, key, value, None, None, headers))

    return send_letter
