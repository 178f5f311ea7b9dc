"""The seek after a rebalance (stream_app.faust.seek), and the aiokafka gap it repairs."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP
from intervaltree import IntervalTree  # type: ignore[import-untyped]

from intercom_stream.settings import Settings
from stream_app.faust.declare import create_faust_app
from stream_app.faust.seek import (
    SeekingConsumer,
    acknowledge_range,
    fill_handled_hole,
    unseeked,
)
from tests.support.kafka import produce


def test_only_source_partitions_committed_nowhere_or_at_zero_are_left_to_seek() -> None:
    """aiokafka seeks offsets above 0 itself; changelogs are faust's recovery's business."""
    committed: dict[TP, int | None] = {
        TP("n", 0): None,
        TP("n", 1): 0,
        TP("n", 2): 7,
        TP("app-dedup-changelog", 0): None,
    }
    assert unseeked(committed, {"app-dedup-changelog"}) == {TP("n", 0): None, TP("n", 1): 0}


class Starts:
    """Stands in for the consumer `_starts` runs on: its app's reset and the log offsets."""

    def __init__(self, reset: str) -> None:
        """Answer earliest offsets 3 and highwaters 9 for every partition."""
        conf = type("Conf", (), {"consumer_auto_offset_reset": reset})()
        self.app = type("App", (), {"conf": conf})()

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        """Return the log start of each partition."""
        return {tp: 3 for tp in tps}

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        """Return the log end of each partition."""
        return {tp: 9 for tp in tps}


@pytest.mark.parametrize(("reset", "start"), [("earliest", 3), ("latest", 9)])
async def test_an_uncommitted_partition_starts_where_a_new_group_would(
    reset: str, start: int
) -> None:
    """No commit: the reset policy's offset; a commit at 0: offset 0."""
    skipped: dict[TP, int | None] = {TP("n", 0): None, TP("n", 1): 0}
    fake: Any = Starts(reset)
    assert await SeekingConsumer._starts(fake, skipped) == {TP("n", 0): start, TP("n", 1): 0}


def test_every_app_builds_the_seeking_consumer(make_settings: Any, tmp_path: Path) -> None:
    """create_faust_app installs the consumer before anything asks for it."""
    settings: Settings = make_settings()
    app = create_faust_app(settings, "seek-test", 6066, str(tmp_path))
    assert issubclass(app.transport.Consumer, SeekingConsumer)


@pytest.mark.integration
async def test_aiokafka_leaves_an_uncommitted_partition_where_it_was_fetched_to(
    kafka_settings: Settings, unique: str
) -> None:
    """The assumption seek.py repairs: seek_to_committed skips a partition with no commit.

    If an aiokafka upgrade makes this fail, aiokafka seeks such a partition itself and
    SeekingConsumer's extra seek is redundant (still harmless).
    """
    bootstrap, topic = kafka_settings.kafka_bootstrap_servers, kafka_settings.topic_notifications
    await produce(bootstrap, topic, [(b"k", b"v", []) for _ in range(3)])
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=unique, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        positions = await fetched_to(consumer, 3)
        assert set((await consumer.seek_to_committed()).values()) == {None}
        assert {tp: await consumer.position(tp) for tp in positions} == positions
    finally:
        await consumer.stop()


async def fetched_to(consumer: AIOKafkaConsumer, count: int) -> dict[TopicPartition, int]:
    """Fetch until the positions add up to `count` records; return them (bounded wait)."""
    async with asyncio.timeout(30):  # a TimeoutError here means the records never came
        while True:
            await consumer.getmany(timeout_ms=300)
            assigned = consumer.assignment()
            positions = {tp: await consumer.position(tp) for tp in assigned}
            if assigned and sum(positions.values()) == count:
                return positions


def bookkeeping(acked: list[int], committed: int) -> Any:
    """Return a consumer holding only the state `_new_offset` reads (no broker, no loop)."""
    consumer: Any = SeekingConsumer.__new__(SeekingConsumer)
    tp = TP("n", 0)
    consumer._acked = defaultdict(list, {tp: list(acked)})
    consumer._acked_index = defaultdict(set, {tp: set(acked)})
    consumer._gap = defaultdict(IntervalTree)
    consumer._committed_offset = defaultdict(lambda: None, {tp: committed})
    consumer.handled = {}
    return consumer


REPEATED = [589, 590, 590, 591, 591, 592]


def test_faust_takes_a_repeated_offset_for_the_end_of_the_run() -> None:
    """The assumption: faust's own `_new_offset` stops the run at the first repeat."""
    assert Consumer._new_offset(bookkeeping(REPEATED, 589), TP("n", 0)) == 591


def test_repeated_acknowledgements_do_not_hold_the_commit_back() -> None:
    """With repeats dropped the whole acknowledged run is committed at once."""
    consumer = bookkeeping(REPEATED, 589)
    assert consumer._new_offset(TP("n", 0)) == 593
    assert consumer._acked[TP("n", 0)] == []


def test_a_real_hole_still_holds_the_commit_back() -> None:
    """An offset never acknowledged is still never committed past."""
    consumer = bookkeeping([589, 590, 590, 592], 589)
    assert consumer._new_offset(TP("n", 0)) == 591
    assert consumer._acked[TP("n", 0)] == [592]


async def test_a_range_handled_outside_faust_lets_the_commit_pass_it() -> None:
    """535-580 never acknowledged by faust (read again by the worker): acknowledged as a range."""
    consumer = bookkeeping([581, 582, 583], 535)
    assert consumer._new_offset(TP("n", 0)) is None  # the hole holds faust's commit back
    app: Any = type("App", (), {"consumer": consumer})()
    await acknowledge_range(app, "n", 0, 535, 581)
    assert consumer._new_offset(TP("n", 0)) == 584


def test_a_hole_below_the_handled_watermark_no_longer_holds_the_commit_back() -> None:
    """604-625 handled before a rebalance made faust forget their acknowledgements."""
    consumer = bookkeeping([626, 627, 628], 604)
    assert consumer._new_offset(TP("n", 0)) is None  # faust alone: stuck at 604 for good
    consumer.handled = {TP("n", 0): 629}
    assert consumer._new_offset(TP("n", 0)) == 629


def test_a_hole_above_the_handled_watermark_is_left_alone() -> None:
    """Offsets the handler has not reached are never acknowledged on its behalf."""
    acked = [626, 627]
    fill_handled_hole(acked, 604, 626)
    assert acked == [626, 627]
    fill_handled_hole(acked, 604, None)
    assert acked == [626, 627]
