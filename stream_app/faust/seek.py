"""faust's consumer with repairs of its offset bookkeeping around restarts and rebalances.

1. The seek after a rebalance, repaired for partitions whose group has committed nothing yet.

faust fetches while it recovers its tables and drops the source records it fetched meanwhile,
counting on its seek to the committed offsets (`Consumer.perform_seek`) to read them again.
aiokafka's `seek_to_committed` seeks only partitions committed past offset 0, so a partition
with no commit (a new group, or a worker killed before its first commit) stayed where recovery
had fetched it to: its records were dropped without a trace and its actor waited for ever.
`SeekingConsumer` seeks those partitions too: to offset 0, or to where the group's
`auto_offset_reset` starts a new group (the log start, or its end for "latest").

2. The commit, repaired for an offset acknowledged twice. Around a rebalance faust can hand out
one offset twice (fetched before and after its seek) and record both acknowledgements; its
`_new_offset` then takes `[589, 590, 590, 591, ...]` as a run ending at 590 and commits one
offset per commit interval (the broker-kill scenario left a worker 3,456 records behind
although everything was handled). Repeats are dropped before faust looks for the run.

3. The commit, repaired for offsets acknowledged in a generation faust has since forgotten.
A rebalance makes faust drop its acknowledgements of records handled but not committed yet
(the broker down, the commit failing); when the records after them arrive first, faust's list
starts past its committed offset and its commit stays there for good (committed 604 with
626.. acknowledged, 1,688 records behind). The worker's continuity check knows every offset
below its watermark reached the handler (`note_handled`), so such a hole is filled from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP

from stream_app.continuity import Continuity, Reader


def unseeked(committed: Mapping[TP, int | None], changelogs: set[str]) -> dict[TP, int | None]:
    """Return the source partitions aiokafka's seek left alone (committed None or 0)."""
    return {
        tp: offset
        for tp, offset in committed.items()
        if tp.topic not in changelogs and (offset is None or offset <= 0)
    }


def drop_repeats(acked: list[int]) -> None:
    """Keep each acknowledged offset once, in order (faust keeps the list sorted)."""
    if len(acked) != len(set(acked)):
        acked[:] = sorted(set(acked))


def fill_handled_hole(acked: list[int], committed: int | None, handled: int | None) -> None:
    """Acknowledge the offsets between the commit and the first acknowledged one if handled.

    `handled` is the continuity watermark: every offset below it reached the handler.
    """
    if not acked or committed is None or handled is None:
        return
    first = min(acked)
    if first - committed > 1 and first < handled:
        acked.extend(range(committed, first))
        acked.sort()


class SeekingConsumer(Consumer):
    """faust's aiokafka consumer: every partition sought after a rebalance, repeats dropped."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """Seek as aiokafka does, then seek the partitions it skipped; return the commits."""
        committed: Mapping[TP, int] = await super().seek_to_committed()
        skipped = unseeked(committed, set(self.app.tables.changelog_topics))
        if skipped:
            await self.seek_wait(await self._starts(skipped))
        return committed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build faust's consumer, with no offset known as handled yet."""
        super().__init__(*args, **kwargs)
        self.handled: dict[TP, int] = {}  # below it, every offset reached the handler

    def _new_offset(self, tp: TP) -> int | None:
        """Return faust's next offset to commit, once repeats are dropped and holes filled."""
        fill_handled_hole(self._acked[tp], self._committed_offset[tp], self.handled.get(tp))
        drop_repeats(self._acked[tp])
        found: int | None = super()._new_offset(tp)
        return found

    async def _starts(self, skipped: Mapping[TP, int | None]) -> dict[TP, int]:
        """Return where each skipped partition resumes: its commit, else the reset's offset."""
        uncommitted = [tp for tp, offset in skipped.items() if offset is None]
        resets: Mapping[TP, int] = {}
        if uncommitted:
            latest = self.app.conf.consumer_auto_offset_reset == "latest"
            find = self.highwaters if latest else self.earliest_offsets
            resets = await find(*uncommitted)
        return {tp: int(resets[tp]) if offset is None else offset for tp, offset in skipped.items()}


async def acknowledge_range(
    app: faust.App, topic: str, partition: int, start: int, end: int
) -> None:
    """Count offsets [start, end) as acknowledged: records handled without faust delivering them.

    faust's own gap bookkeeping (`Consumer._add_gap`, inclusive end) is what lets its commit
    pass offsets it skipped; a range faust did not notice as skipped would hold it back.
    """
    if end > start:
        consumer: Any = app.consumer
        await consumer._add_gap(TP(topic, partition), start, end - 1)


def note_handled(app: faust.App, topic: str, partition: int, below: int) -> None:
    """Record that every offset of the partition below `below` reached the handler."""
    handled = getattr(app.consumer, "handled", None)  # None: not a SeekingConsumer
    if handled is not None:
        handled[TP(topic, partition)] = below


def tracked_continuity(
    app: faust.App, reader: Reader, on_reread: Callable[[int], None]
) -> Continuity:
    """Return an actor's continuity check, reporting its ranges and watermark to the consumer."""
    return Continuity(
        reader, on_reread, partial(acknowledge_range, app), partial(note_handled, app)
    )


def use_seeking_consumer(app: faust.App) -> None:
    """Make the app build a SeekingConsumer (before anything asks for `app.consumer`)."""
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    transport.Consumer = SeekingConsumer
