"""Whether a job's Intercom call is on the wire, so that dropping the job lets that call finish.

A rebalance drops the writer's unacknowledged jobs (agent.watch_revocations). Cancelling a job
while its request is on the wire loses Intercom's answer: the call may have been accepted, the
ledger never hears of it, and the command is sent a second time when its record is read again
(the broker-kill reliability scenario found three such calls). Each job runs with its own
`Wire` in a context variable (set by Inflight); the Sender marks its call on it. Dropping a job
cancels it at once unless a call is on the wire: then the call finishes, its outcome reaches
the ledger, and the job stops at its next call. The record itself is let go of at once, so the
rebalance does not wait; the command id's claim makes its next reading wait for that outcome.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

CURRENT: contextvars.ContextVar[Wire | None] = contextvars.ContextVar("writer_wire", default=None)


@dataclass
class Wire:
    """One job's call state: a call on the wire, and whether the job was dropped meanwhile."""

    calling: bool = False
    stopping: bool = False

    def stop(self, task: asyncio.Task[Any]) -> None:
        """Cancel the job now, or, with a call on the wire, once that call has finished."""
        if self.calling:
            self.stopping = True
        else:
            task.cancel()


def start_job(job: Coroutine[Any, Any, None]) -> tuple[asyncio.Task[None], Wire]:
    """Run the job in a task of its own with a fresh Wire; return both."""
    wire = Wire()
    context = contextvars.copy_context()
    context.run(CURRENT.set, wire)
    return asyncio.create_task(job, context=context), wire


def checkpoint() -> None:
    """Stop a dropped job before it makes another call (raises CancelledError)."""
    wire = CURRENT.get()
    if wire is not None and wire.stopping:
        raise asyncio.CancelledError("dropped at a rebalance after its call finished")


@contextmanager
def on_the_wire() -> Iterator[None]:
    """Mark the current job's call as on the wire for the block."""
    wire = CURRENT.get()
    if wire is None:
        yield
        return
    wire.calling = True
    try:
        yield
    finally:
        wire.calling = False
