"""Carries a replay out: reads the selected notifications and writes them to the replay topic.

Each record keeps its key, bytes and headers (the signature too, so the worker verifies it
again) and gains `replay: true`, `x-replay-id`, `x-replay-count` (one more than it carried: a
loop guard) and `x-replay-trigger: MANUAL`, plus `x-replay-force-resend: true` when forced. It
goes to the same partition number of the replay topic, so per-resource order is kept.
Acknowledged progress is checkpointed to the audit topic, which is what `--resume` reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer

from intercom_stream.ops import kafka_io, replay_audit
from intercom_stream.ops.replay_plan import Ranges, Selection, header, selected
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_topic
from schemas import headers

MAX_REPLAY_COUNT = 10
# A paced replay hands the producer one record at a time; without a linger each went in a
# produce request of its own (1,000 requests a second at the default rate, each one the
# broker's work too). 50 ms gathers them: about 20 requests a second.
LINGER_MS = 50
CHECKPOINT_EVERY = 500
OWN_HEADERS = frozenset(
    (headers.REPLAY, headers.REPLAY_ID, headers.REPLAY_COUNT, headers.REPLAY_TRIGGER,
     headers.REPLAY_FORCE_RESEND)
)  # fmt: skip


def replay_headers(record: Any, replay_id: str, force: bool) -> list[tuple[str, bytes]] | None:
    """Return the replayed record's headers, or None when it was replayed too often already."""
    count = int(header(record, headers.REPLAY_COUNT) or 0) + 1
    if count > MAX_REPLAY_COUNT:
        return None
    kept = [(k, bytes(v or b"")) for k, v in record.headers or () if k not in OWN_HEADERS]
    added = [
        (headers.REPLAY, b"true"), (headers.REPLAY_ID, replay_id.encode()),
        (headers.REPLAY_COUNT, str(count).encode()), (headers.REPLAY_TRIGGER, b"MANUAL"),
    ]  # fmt: skip
    return kept + added + ([(headers.REPLAY_FORCE_RESEND, b"true")] if force else [])


@dataclass
class Pacer:
    """Keeps the send rate at or below `rate` per second (no limit when None)."""

    rate: float | None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    started: float | None = None
    count: int = 0

    async def wait(self) -> None:
        """Return when the next record may go."""
        self.started = self.clock() if self.started is None else self.started
        if self.rate:
            due = self.started + self.count / self.rate
            if (delay := due - self.clock()) > 0:
                await self.sleep(delay)
        self.count += 1


@dataclass
class Replay:
    """One replay's run: where it stands and how to write its records and checkpoints."""

    settings: Settings
    replay_id: str
    selection: Selection
    ranges: Ranges
    force: bool
    pacer: Pacer
    advance: Callable[[], None] = lambda: None
    sent: int = 0
    skipped: int = 0
    pending: list[Any] = field(default_factory=list)

    async def run(self, clock: Callable[[], float] = time.time) -> str:
        """Send every selected record; return `finished`, or `interrupted` on cancellation."""
        outcome = "finished"
        async with kafka_io.writer(self.settings.bootstrap_servers(), LINGER_MS) as producer:
            try:
                await self.send_all(producer, clock)
            except asyncio.CancelledError:
                outcome = "interrupted"
            await self.checkpoint(producer, clock, outcome)
        return outcome

    async def send_all(self, producer: AIOKafkaProducer, clock: Callable[[], float]) -> None:
        """Send the selected records of the remaining ranges, checkpointing as they are acked."""
        topic = self.settings.topic_notifications
        async with kafka_io.reader(self.settings.bootstrap_servers()) as consumer:
            async for record in selected(consumer, topic, dict(self.ranges), self.selection):
                await self.send(producer, record)
                if len(self.pending) >= CHECKPOINT_EVERY:
                    await self.checkpoint(producer, clock, "checkpoint")

    async def send(self, producer: AIOKafkaProducer, record: Any) -> None:
        """Queue one record for the replay topic and move its partition's position past it."""
        found = replay_headers(record, self.replay_id, self.force)
        if found is None:
            self.skipped += 1
        else:
            await self.pacer.wait()
            future = await producer.send(
                replay_topic(self.settings), value=record.value, key=record.key,
                headers=found, partition=record.partition,
            )  # fmt: skip
            self.pending.append(future)
        self.ranges[record.partition] = (record.offset + 1, self.ranges[record.partition][1])
        self.advance()

    async def checkpoint(
        self, producer: AIOKafkaProducer, clock: Callable[[], float], event: str
    ) -> None:
        """Wait for every queued record's acknowledgement, then record the positions."""
        await asyncio.gather(*self.pending)
        self.sent += len(self.pending)
        self.pending.clear()
        await replay_audit.write(producer, self.settings, {
            "replay_id": self.replay_id, "event": event, "at_ms": int(clock() * 1000),
            "positions": {str(p): start for p, (start, _) in self.ranges.items()},
            "sent": self.sent, "skipped": self.skipped,
        })  # fmt: skip
