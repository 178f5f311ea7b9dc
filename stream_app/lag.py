"""Consumer lag per partition, in records and in seconds, collected when Prometheus scrapes.

The names are kafka-lag-exporter's (`kafka_consumergroup_group_lag`, `..._lag_seconds`), so
its dashboards work, with a `lane` label (live, replay). Lag in records is the partition's high
watermark minus the offset after the furthest finished record; lag in seconds is how old that
record is while records wait behind it (0 when caught up), an upper bound of the oldest wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas import headers
from stream_app.source import Source

Highwater = Callable[[str, int], int | None]
Committed = Callable[[str, int], int | None]
Assigned = Callable[[], list[tuple[str, int]]]
LABELS = ["group", "topic", "partition", "lane"]


def lane_of(source: Source) -> str:
    """Return the record's lane: `replay` for replayed records, else `live`."""
    return "replay" if source.header(headers.REPLAY) == b"true" else "live"


def lane_of_topic(topic: str) -> str:
    """Return the lane a topic feeds: replay topics (`<topic>.replay`) feed the replay lane."""
    return "replay" if topic.endswith(".replay") else "live"


class Progress:
    """The furthest record finished on each partition: its offset and Kafka timestamp (ms)."""

    def __init__(self) -> None:
        """Start with no partition seen."""
        self.last: dict[tuple[str, int], tuple[int, int | None]] = {}

    def finished(self, source: Source) -> None:
        """Remember the record if no later record of its partition finished before it.

        The writer has several commands of a partition in flight, and they finish in any
        order: remembering the last to finish, not the furthest, kept the records it had
        overtaken as lag for good once the partition went quiet (issue 12's benchmark then
        waited forever for a lag of 0).
        """
        key = (source.topic, source.partition)
        known = self.last.get(key)
        if known is None or source.offset > known[0]:
            self.last[key] = (source.offset, source.timestamp_ms)

    def forget(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Forget revoked partitions: once assigned again, they are read from their commit."""
        for topic, partition in partitions:
            self.last.pop((topic, partition), None)


class LagCollector(Collector):
    """Yields the lag of every assigned partition at scrape time."""

    def __init__(
        self,
        group: str,
        progress: Progress,
        assigned: Assigned,
        offsets: tuple[Highwater, Committed],
        lane: Callable[[str], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Read the assignment, high watermarks and committed offsets through the functions."""
        self.group, self.progress, self.assigned = group, progress, assigned
        self.highwater, self.committed = offsets
        self.lane, self.clock = lane, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Return the two lag gauges."""
        records = GaugeMetricFamily(
            "kafka_consumergroup_group_lag", "Records behind the high watermark.", labels=LABELS
        )
        seconds = GaugeMetricFamily(
            "kafka_consumergroup_group_lag_seconds",
            "Age of the last finished record while records wait behind it.",
            labels=LABELS,
        )
        for topic, partition in self.assigned():
            lag, age = self.partition_lag(topic, partition)
            if lag is None:
                continue
            labels = [self.group, topic, str(partition), self.lane(topic)]
            records.add_metric(labels, lag)
            seconds.add_metric(labels, age)
        yield records
        yield seconds

    def topic_lag(self, topic: str) -> int:
        """Return how many records of the topic wait on this process's assigned partitions."""
        parts = [p for t, p in self.assigned() if t == topic]
        return sum(self.partition_lag(topic, p)[0] or 0 for p in parts)

    def partition_lag(self, topic: str, partition: int) -> tuple[int | None, float]:
        """Return (records behind, seconds behind); None when the offsets are unknown.

        Before this process finished a record of the partition, the committed offset is the
        next to process (after a restart with nothing new, the lag is then 0, not the topic).
        """
        end = self.highwater(topic, partition)
        offset, timestamp_ms = self.progress.last.get((topic, partition), (None, None))
        following = offset + 1 if offset is not None else self.committed(topic, partition)
        if end is None or following is None:
            return None, 0.0
        lag = max(0, end - following)
        if lag == 0 or timestamp_ms is None:
            return lag, 0.0
        return lag, max(0.0, self.clock() - timestamp_ms / 1000)


def faust_assignment(app: Any) -> Assigned:
    """Return a function listing the app consumer's assigned partitions (none before start)."""

    def assigned() -> list[tuple[str, int]]:
        try:
            return [(tp.topic, tp.partition) for tp in app.consumer.assignment()]
        except Exception:  # noqa: BLE001 - not started or rebalancing: nothing to report
            return []

    return assigned


def faust_offsets(app: Any) -> tuple[Highwater, Committed]:
    """Return functions reading a partition's high watermark and committed offset from faust."""
    from faust.types import TP

    def highwater(topic: str, partition: int) -> int | None:
        try:
            value = app.consumer.highwater(TP(topic, partition))
        except Exception:  # noqa: BLE001 - not fetched yet: unknown, not zero
            return None
        return int(value) if value is not None else None

    def committed(topic: str, partition: int) -> int | None:
        # faust keeps the next offset to read of each partition it committed or sought to.
        value = getattr(app.consumer, "_committed_offset", {}).get(TP(topic, partition))
        return int(value) if value is not None else None

    return highwater, committed


def app_lag_collector(app: Any, progress: Progress) -> LagCollector:
    """Return the lag collector of a faust app's assigned partitions, by lane.

    The progress of revoked partitions is forgotten when faust revokes them.
    """

    def forget(sender: Any, revoked: set[tuple[str, int]], **kwargs: Any) -> None:
        progress.forget(revoked)

    app.on_partitions_revoked.connect(forget)
    return LagCollector(
        str(app.conf.id), progress, faust_assignment(app), faust_offsets(app), lane_of_topic
    )
