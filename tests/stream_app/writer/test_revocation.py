"""A record dropped at a revocation no longer holds up faust's rebalance, and is not acked."""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP
from faust.types.tuples import Message

from stream_app.faust.runtime import forget_unacked


def message(offset: int) -> Message:
    """Return a faust message of the command topic."""
    return Message(
        "commands",
        0,
        offset,
        timestamp=0.0,
        timestamp_type=0,
        headers=[],
        key=b"k",
        value=b"v",
        checksum=None,
        tp=TP("commands", 0),
    )


async def test_wait_empty_ends_once_a_dropped_record_is_forgotten() -> None:
    """faust waits for every record it handed out; forgetting one ends the wait, unacked."""
    app = faust.App("revocation", store="memory://", autodiscover=False)
    held = message(145)  # still referenced, as faust's stream iterator keeps the last record
    app.consumer.unacked.add(held)
    waiting = asyncio.create_task(app.consumer.wait_empty())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the stall the reliability suite saw after a broker restart
    forget_unacked(app, held)
    await asyncio.wait_for(waiting, timeout=10)
    assert not held.acked
    app.consumer._thread.thread_loop.close()  # type: ignore[attr-defined]  # never started
