"""Changelog partitions faust does not read are paused in aiokafka too, so they hold no fetch.

faust "pauses" a partition only by leaving it out of the partitions it asks aiokafka for;
aiokafka goes on fetching it. Once recovery is done faust reads no table changelog, while the
worker goes on writing them: aiokafka fetched each changelog partition's new records once and
nobody took them, and a partition whose fetched records wait untaken holds every fetch from
its broker for aiokafka's prefetch backoff (100 ms). As the 24 changelog partitions received
their first records one after another at the start of a load, live records came out in 100 ms
steps for about 0.4 s: the p99 of `make bench-pipeline`'s latency part (docs/benchmarks.md,
session 13). Before each fetch the consumer now pauses, in aiokafka, the assigned changelog
partitions faust does not read, and resumes those it reads again (a later recovery, standbys).

Private seams: faust's `Consumer._getmany`, `_is_changelog_tp`, `_thread` and the thread's
`_ensure_consumer` and `call_thread`, `app.consumer_generation_id`, checked by
tests/stream_app/test_faust_unread.py.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types import TP


async def pause_in_aiokafka(thread: Any, pause: set[TP], resume: set[TP]) -> None:
    """Pause and resume assigned partitions in aiokafka, on faust's consumer thread."""
    consumer = thread._ensure_consumer()  # aiokafka's consumer, run on that thread's loop

    async def apply() -> None:
        assigned = consumer.assignment()  # aiokafka's TopicPartitions, which pause() requires
        consumer.pause(*(tp for tp in assigned if tp in pause))
        consumer.resume(*(tp for tp in assigned if tp in resume))

    await thread.call_thread(apply)


class UnreadChangelogs:
    """A Consumer mix-in: changelog partitions outside faust's reads are paused in aiokafka."""

    _thread: Any  # faust's AIOKafkaConsumerThread
    app: Any  # faust's App (the consumer class this is mixed into has it)
    unread_paused: frozenset[TP] = frozenset()  # what this mix-in paused, as it last applied it
    unread_generation: int | None = None  # the consumer generation those pauses belong to

    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109 - faust's
    ) -> Any:
        """Pause the changelogs faust does not read (resume those it does), then fetch."""
        await self.pause_unread(active_partitions)
        return await super()._getmany(active_partitions, timeout)  # type: ignore[misc]

    async def pause_unread(self, active: set[TP] | None) -> None:
        """Bring aiokafka's pauses of changelog partitions in line with faust's reads.

        A new generation is a new assignment, whose partitions aiokafka starts unpaused.
        """
        if self.unread_generation != (generation := self.app.consumer_generation_id):
            self.unread_paused, self.unread_generation = frozenset(), generation
        unread = self.unread(active)
        if unread == self.unread_paused:
            return
        paused, self.unread_paused = self.unread_paused, unread
        await pause_in_aiokafka(self._thread, set(unread - paused), set(paused - unread))

    def unread(self, active: set[TP] | None) -> frozenset[TP]:
        """Return the assigned changelog partitions faust leaves out of its fetches."""
        if active is None:  # faust reads every assigned partition
            return frozenset()
        assigned = self.assignment()  # type: ignore[attr-defined]
        is_changelog = self._is_changelog_tp  # type: ignore[attr-defined]
        return frozenset(tp for tp in assigned if tp not in active and is_changelog(tp))


def use_unread_pausing(app: faust.App) -> None:
    """Make the app's consumer (whatever class it is so far) pause unread changelogs."""
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    base = transport.Consumer
    attributes = {"__doc__": base.__doc__}
    transport.Consumer = type(f"Unread{base.__name__}", (UnreadChangelogs, base), attributes)
