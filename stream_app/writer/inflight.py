"""Runs commands concurrently across contacts, in order per contact, acking in offset order.

Each consumed record becomes a job. A job waits for the previous job of the same contact, so a
command in retry delays only its own contact. Jobs of one partition are acknowledged strictly in
offset order, so the committed offset never passes a command that is not finished (at least
once). At most `limit` records are held unacknowledged; the consumer waits when it is full.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from stream_app.writer.wire import Wire, start_job

Job = Callable[[], Awaitable[None]]
Ack = Callable[[], object]


def keep() -> None:
    """Do nothing: a record dropped without anything to release."""


@dataclass
class HeldRecord:
    """One record in flight: its acknowledgement, how to let go of it, and its job's task."""

    ack: Ack
    task: asyncio.Task[None]
    forget: Ack = keep
    wire: Wire = field(default_factory=Wire)


class Inflight:
    """A bounded window of in-flight records, per-contact chains and in-order acks."""

    def __init__(self, limit: int, on_fatal: Callable[[BaseException], None]) -> None:
        """Hold at most `limit` records; `on_fatal` hears a job that raised."""
        self._limit = limit
        self._on_fatal = on_fatal
        self._partitions: dict[Hashable, deque[HeldRecord]] = {}
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._count = 0
        self._finishing: set[asyncio.Task[None]] = set()  # dropped, their call on the wire
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        """Return the records held unacknowledged."""
        return self._count

    async def submit(
        self, partition: Hashable, contact: str | None, ack: Ack, job: Job, forget: Ack = keep
    ) -> None:
        """Start the job after the contact's previous one, once the window has room.

        `forget` is called if the record is dropped unacknowledged (its partition revoked).
        """
        while self._count >= self._limit:
            self._room.clear()
            await self._room.wait()
        previous = self._tails.get(contact) if contact is not None else None
        task, wire = start_job(self._chain(previous, job))
        if contact is not None:
            self._tails[contact] = task
        held = HeldRecord(ack, task, forget, wire)
        self._partitions.setdefault(partition, deque()).append(held)
        self._count += 1
        task.add_done_callback(lambda done: self._settle(partition, contact, done))

    @staticmethod
    async def _chain(previous: asyncio.Task[None] | None, job: Job) -> None:
        """Run the job once the contact's previous job has ended, however it ended."""
        if previous is not None:
            await asyncio.wait([previous])
        await job()

    def _settle(self, partition: Hashable, contact: str | None, task: asyncio.Task[None]) -> None:
        """Drop the contact's tail and ack the partition's finished head records in order."""
        if contact is not None and self._tails.get(contact) is task:
            del self._tails[contact]
        if not task.cancelled() and task.exception() is not None:
            self._on_fatal(task.exception())  # type: ignore[arg-type]
            return  # never ack a record whose job failed; nothing after it either
        queue = self._partitions.get(partition)
        while queue and queue[0].task.done() and self._succeeded(queue[0].task):
            queue.popleft().ack()
            self._count -= 1
        self._room.set()

    @staticmethod
    def _succeeded(task: asyncio.Task[None]) -> bool:
        """Whether the job ended normally."""
        return not task.cancelled() and task.exception() is None

    def drop_all(self) -> int:
        """Stop every job and forget every record unacked (partitions revoked); return count.

        A job whose Intercom call is on the wire finishes that call first (wire.py).
        """
        dropped = self._count
        for queue in self._partitions.values():
            for entry in queue:
                entry.wire.stop(entry.task)
                entry.forget()
                self._finishing.add(entry.task)
                entry.task.add_done_callback(self._finishing.discard)
        self._partitions.clear()
        self._tails.clear()
        self._count = 0
        self._room.set()
        return dropped

    async def close(self) -> None:
        """Stop every job (calls on the wire finish first) and wait for them to end."""
        self.drop_all()
        tasks = list(self._finishing)
        await asyncio.gather(*tasks, return_exceptions=True)
