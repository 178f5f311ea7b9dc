"""The consumer's fetch wait, shortened from faust's 1.5 s so idle partitions cannot hold busy ones.

aiokafka keeps one fetch request in flight per broker and leaves out of it every partition
whose fetched records wait to be consumed. When faust is slower than 100 ms to take a fetch's
records (aiokafka's prefetch backoff), the next request carries only the partitions without
records: the tables' changelogs (which faust no longer reads after recovery) and the replay
topic. The broker holds such a request for `fetch_max_wait_ms`, which faust hard-codes to
1500, and the busy partitions are fetched again only after it: records waited 1-1.5 s at any
rate (issue 13). A short wait bounds that delay; an idle worker then polls the broker more
often: measured idle CPU 3.5 % of a core with 1.5 s, 3.9 % with 100 ms, 6.4 % with 20 ms.
"""

from __future__ import annotations

from typing import Any

import aiokafka
import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_WAIT_MS = 50


class ShortWaitConsumerThread(AIOKafkaConsumerThread):
    """faust's consumer thread whose aiokafka consumer waits FETCH_WAIT_MS for new records."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        """Build faust's consumer, then shorten the wait its Fetcher is built with at start."""
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_WAIT_MS
        return consumer


def new_consumer_thread(self: Any) -> AIOKafkaConsumerThread:
    """Return the consumer's `consumer_thread_class`, built as faust's aiokafka Consumer does."""
    thread_class: type[AIOKafkaConsumerThread] = self.consumer_thread_class
    return thread_class(self, loop=self.loop, beacon=self.beacon)


def use_short_fetch_wait(app: faust.App) -> None:
    """Make the app's consumer (whatever class it is so far) fetch with the short wait."""
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    base = transport.Consumer
    attributes = {
        "_new_consumer_thread": new_consumer_thread,
        "consumer_thread_class": ShortWaitConsumerThread,
        "__doc__": base.__doc__,
    }
    transport.Consumer = type(f"ShortWait{base.__name__}", (base,), attributes)
