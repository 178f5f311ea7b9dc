"""What the consumer fetches: a short wait, and only the partitions faust reads.

aiokafka keeps one fetch request in flight per broker and leaves out of it every partition
whose fetched records wait to be consumed. When faust is slower than 100 ms to take a fetch's
records (aiokafka's prefetch backoff), the next request carries only the partitions without
records: the tables' changelogs (which faust no longer reads after recovery) and the replay
topic. The broker holds such a request for `fetch_max_wait_ms`, which faust hard-codes to
1500, and the busy partitions are fetched again only after it: records waited 1-1.5 s at any
rate (issue 13). A short wait bounds that delay; an idle worker then polls the broker more
often: measured idle CPU 3.5 % of a core with 1.5 s, 3.9 % with 100 ms, 6.4 % with 20 ms.

faust stops reading a table's changelog once it has recovered it, but only in its own set
of active partitions: aiokafka goes on fetching every assigned partition, and encodes and
decodes each in Python in every request. At 100 live notifications/s the writer sent about
190 fetch requests a second of 73 partitions each, the worker 100 of 25. Before each fetch
the consumer thread pauses in aiokafka the assigned partitions faust does not read now, and
resumes them once faust reads them again (a recovery after a rebalance does): 49 and 11-17
partitions a request. Neither process's CPU changed measurably on this noisy machine.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

import aiokafka
import faust
from aiokafka.structs import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

FETCH_WAIT_MS = 50


class LeanFetchConsumerThread(AIOKafkaConsumerThread):
    """faust's consumer thread: a FETCH_WAIT_MS wait, and what faust does not read paused."""

    dormant: set[TopicPartition]  # partitions this thread paused in aiokafka

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        """Build faust's consumer, then shorten the wait its Fetcher is built with at start."""
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_WAIT_MS
        self.dormant = set()
        return consumer

    async def _fetch_records(
        self,
        consumer: aiokafka.AIOKafkaConsumer,
        active_partitions: set[TP],
        timeout: float | None = None,  # noqa: ASYNC109 - faust's
        max_records: int | None = None,
    ) -> Any:
        """Pause what faust does not read and resume what it reads again, then fetch."""
        if active_partitions is not None:
            self.dormant = quiet(consumer, active_partitions, self.dormant)
        return await super()._fetch_records(consumer, active_partitions, timeout, max_records)


def quiet(
    consumer: aiokafka.AIOKafkaConsumer, active: Set[TP], dormant: set[TopicPartition]
) -> set[TopicPartition]:
    """Pause the assigned partitions not `active`; resume the `dormant` ones now active.

    Returns the partitions paused for being dormant. A partition paused by someone else (the
    intake) is left to them; a new assignment unpauses everything, so `dormant` keeps only
    what aiokafka still has paused.
    """
    paused = consumer.paused()
    dormant = dormant & paused
    waking = {tp for tp in dormant if tp in active}
    sleeping = {tp for tp in consumer.assignment() if tp not in active and tp not in paused}
    if waking:
        consumer.resume(*waking)
    if sleeping:
        consumer.pause(*sleeping)
    return (dormant - waking) | sleeping


def _new_consumer_thread(self: Any) -> LeanFetchConsumerThread:
    """Return the consumer thread, as faust's aiokafka Consumer does, with the lean fetch."""
    return LeanFetchConsumerThread(self, loop=self.loop, beacon=self.beacon)


def use_lean_fetch(app: faust.App) -> None:
    """Make the app's consumer (whatever class it is so far) fetch as this module says."""
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    base = transport.Consumer
    attributes = {"_new_consumer_thread": _new_consumer_thread, "__doc__": base.__doc__}
    transport.Consumer = type(f"LeanFetch{base.__name__}", (base,), attributes)
