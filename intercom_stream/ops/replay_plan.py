"""What a replay re-drives: the selection, the offset ranges it covers, and the plan printed first.

Ranges come from the record timestamps with Kafka's offsets-for-times (the earliest offset whose
timestamp is at or after the instant), or from explicit partition and offsets. Within them, the
Intercom topic glob and the notification ids filter by the headers the ingress writes.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from intercom_stream.ops import kafka_io
from intercom_stream.ops.dlq import payload_field
from schemas import headers

Ranges = dict[int, tuple[int, int]]


@dataclass(frozen=True)
class Selection:
    """Which notifications a replay covers (every field optional; all that are given must hold)."""

    since_ms: int | None = None
    until_ms: int | None = None
    topics: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    partitions: tuple[int, ...] = ()
    from_offset: int | None = None
    to_offset: int | None = None

    @classmethod
    def from_record(cls, values: dict[str, Any]) -> Selection:
        """Return the selection an audit record stored (JSON lists back to tuples)."""
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in values.items()
        }
        return cls(**fields)

    def matches(self, record: Any) -> bool:
        """Whether the record's Intercom topic and notification id are selected."""
        if self.topics and not any(
            fnmatch.fnmatchcase(intercom_topic(record), g) for g in self.topics
        ):
            return False
        return not self.ids or notification_id(record) in self.ids


def header(record: Any, name: str) -> str | None:
    """Return the last value of the record's header as text, or None."""
    found = [bytes(v or b"") for k, v in record.headers or () if k == name]
    return found[-1].decode(errors="replace") if found else None


def intercom_topic(record: Any) -> str:
    """Return the notification's Intercom topic (the ingress header, else the payload)."""
    return header(record, headers.INTERCOM_TOPIC) or payload_field(record.value, "topic") or ""


def notification_id(record: Any) -> str:
    """Return the notification id (the ingress header, else the payload)."""
    return header(record, headers.NOTIFICATION_ID) or payload_field(record.value, "id") or ""


@dataclass
class Plan:
    """The ranges a replay reads and what they hold, counted before anything is sent."""

    ranges: Ranges
    per_topic: Counter[str] = field(default_factory=Counter)
    scanned: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def selected(self) -> int:
        """Return how many notifications the replay sends."""
        return sum(self.per_topic.values())


async def time_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], at_ms: int | None, ends: dict[Any, int]
) -> dict[TopicPartition, int | None]:
    """Return each partition's first offset at or after the instant (its end when none is)."""
    if at_ms is None:
        return dict.fromkeys(tps)
    found = await consumer.offsets_for_times(dict.fromkeys(tps, at_ms))
    return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}


async def resolve(
    consumer: AIOKafkaConsumer, bootstrap: list[str], topic: str, selection: Selection
) -> tuple[Ranges, dict[int, int]]:
    """Return the [start, end) offsets per partition and each partition's first retained offset."""
    whole = await kafka_io.whole_topic(consumer, topic, bootstrap)
    tps = [tp for tp in whole if not selection.partitions or tp.partition in selection.partitions]
    ends = {tp: whole[tp][1] for tp in tps}
    starts = await time_offsets(consumer, tps, selection.since_ms, ends)
    stops = await time_offsets(consumer, tps, selection.until_ms, ends)
    ranges: Ranges = {}
    for tp in tps:
        first, end = whole[tp]
        start = max(first, starts[tp] or first, selection.from_offset or 0)
        until = stops[tp]
        until = end if until is None else until
        stop = min(end, until, end if selection.to_offset is None else selection.to_offset)
        ranges[tp.partition] = (start, max(start, stop))
    return ranges, {tp.partition: whole[tp][0] for tp in tps}


async def selected(
    consumer: AIOKafkaConsumer, topic: str, ranges: Ranges, selection: Selection
) -> AsyncIterator[Any]:
    """Yield the selected records of the ranges, in offset order per partition."""
    spans = {TopicPartition(topic, p): span for p, span in ranges.items()}
    async for record in kafka_io.read_ranges(consumer, spans):
        if selection.matches(record):
            yield record


async def make_plan(bootstrap: list[str], topic: str, selection: Selection) -> Plan:
    """Resolve the ranges and count the selected notifications per Intercom topic."""
    async with kafka_io.reader(bootstrap) as consumer:
        ranges, firsts = await resolve(consumer, bootstrap, topic, selection)
        plan = Plan(ranges)
        spans = {TopicPartition(topic, p): span for p, span in ranges.items()}
        async for record in kafka_io.read_ranges(consumer, spans):
            plan.scanned += 1
            if selection.matches(record):
                plan.per_topic[intercom_topic(record)] += 1
            if record.offset == firsts[record.partition] and firsts[record.partition] > 0:
                cut = selection.since_ms is not None and record.timestamp > selection.since_ms
                if cut:
                    plan.warnings.append(retention_warning(record))
    return plan


def retention_warning(record: Any) -> str:
    """Return the warning for a partition whose retained records begin after the window does."""
    return (
        f"partition {record.partition}: retention already removed offsets before "
        f"{record.offset}; the window's start is not fully replayable"
    )
