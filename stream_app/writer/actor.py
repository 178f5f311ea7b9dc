"""One writer lane's loop over command events, as a plain object a test can feed (no faust)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from stream_app.dead_letters import stop_consuming
from stream_app.source import Source
from stream_app.writer.inflight import Inflight, Job
from stream_app.writer.processor import CommandProcessor, parse
from stream_app.writer.replay import Ready


@dataclass
class CommandActor:
    """Hands each command event to the in-flight window; stops consuming on any failure."""

    processor: CommandProcessor
    inflight: Inflight
    ready: Ready  # waited for before each record
    refresh_share: Callable[[], None]  # follow the partition assignment before each record
    forget: Callable[[Any], None]  # let go of a dropped record's message
    show_held: Callable[[int], None]  # the in-flight gauge
    stop: Callable[[BaseException], None] = stop_consuming
    taken: Callable[[str, int, int], None] = lambda topic, partition, offset: None  # an Intake's

    async def run(self, events: AsyncIterable[Any]) -> None:
        """Submit each event in order; anything that escapes stops consuming before its ack."""
        async for event in events:
            try:
                await self.ready.wait()  # the ledger's changelog must take writes first
                self.refresh_share()
                await self.submit(event)
            except Exception as exc:  # noqa: BLE001 - an escape would end the agent
                self.stop(exc)  # nothing past this record is acked: exit, resume
            self.show_held(len(self.inflight))
            del event  # an unacked event kept alive would stall a rebalance

    async def submit(self, event: Any) -> None:
        """Hand one command record to the window (an invalid one is dead-lettered there)."""
        source = Source.from_message(event.message)
        self.taken(source.topic, source.partition, source.offset)
        parsed = parse(source)
        job: Job
        if isinstance(parsed, Exception):
            job, contact = (lambda: self.processor.reject(source, parsed)), None
        else:
            job, contact = (lambda: self.processor.process(source, parsed)), parsed.contact_key()
        forget = partial(self.forget, event.message)
        await self.inflight.submit(event.message.tp, contact, event.ack, job, forget)
