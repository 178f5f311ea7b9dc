"""The readiness gate: hold an actor's first record until its topics show in the metadata.

`refresh_metadata` reaches into faust's consumer thread and aiokafka's client (private
attributes, checked by tests/stream_app/test_faust_seams.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import faust
import structlog

from stream_app.errors import TopicsNotReadyError

log = structlog.get_logger("stream_app.faust.gate")
METADATA_POLL_SECONDS = 0.5


def consumer_partitions(app: faust.App, topic: str) -> int | None:
    """Return the partition count of a subscribed topic in the consumer's metadata snapshot.

    This is the figure faust compares a table's changelog with before its first write
    (`Table._verify_source_topic_partitions`): 0 while a just-created topic has no leaders.
    """
    count = app.consumer.topic_partitions(topic)
    return None if count is None else int(count)


async def refresh_metadata(app: faust.App) -> None:
    """Ask the consumer's Kafka client for fresh metadata, on the consumer's own thread."""
    consumer: Any = app.consumer
    thread: Any = consumer._thread  # faust's AIOKafkaConsumerThread (its own event loop)
    client: Any = thread._ensure_consumer()._client  # aiokafka's AIOKafkaClient

    async def refresh() -> None:
        await client.force_metadata_update()

    await thread.call_thread(refresh)


def unready(app: faust.App, topics: Iterable[str], partitions: int) -> dict[str, int]:
    """Return the topics whose count in the consumer's metadata is known and not `partitions`.

    A topic the snapshot does not know passes, as faust's own check lets it: only the group's
    leader keeps the snapshot, so on every other member every count is unknown.
    """
    counts = {topic: consumer_partitions(app, topic) for topic in topics}
    return {t: count for t, count in counts.items() if count is not None and count != partitions}


async def wait_for_partitions(
    app: faust.App, topics: Iterable[str], partitions: int, seconds: float
) -> None:
    """Wait until every topic shows `partitions` in the consumer's metadata; raise after `seconds`.

    A worker that wrote a table before its changelog topic showed up would fail the write with
    PartitionsMismatch, an error of the platform and not of the record it was processing.
    """
    names = list(topics)
    missing = unready(app, names, partitions)
    try:
        async with asyncio.timeout(seconds):
            while missing:
                log.info("worker.waiting_for_topics", missing=missing)
                await refresh_metadata(app)
                await asyncio.sleep(METADATA_POLL_SECONDS)
                missing = unready(app, names, partitions)
    except TimeoutError:
        raise TopicsNotReadyError(
            f"after {seconds}s these topics still do not show {partitions} partitions "
            f"in the worker's metadata: {missing} (run `intercom-stream topics create`)"
        ) from None


@dataclass
class TopicGate:
    """Holds the first record of every actor until the topics it writes are in the metadata."""

    app: faust.App
    topics: list[str]
    partitions: int
    seconds: float
    _passed: bool = field(default=False, init=False)

    async def wait(self) -> None:
        """Return at once once passed; else wait as `wait_for_partitions` does."""
        if not self._passed:
            await wait_for_partitions(self.app, self.topics, self.partitions, self.seconds)
            self._passed = True
