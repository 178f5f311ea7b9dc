"""Changelog partitions faust does not read, paused in aiokafka (stream_app.faust.unread)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer
from faust.types import TP

from stream_app.faust.unread import UnreadChangelogs, pause_in_aiokafka, use_unread_pausing
from tests.stream_app.consumer_thread import FakeThread

CHANGELOG, SOURCE = "app-dedup-changelog", "notifications"
C0, C1, S0 = TP(CHANGELOG, 0), TP(CHANGELOG, 1), TP(SOURCE, 0)


class Base:
    """faust's consumer as the mix-in uses it: assignment, changelog test and fetch."""

    def __init__(self, assigned: set[TP]) -> None:
        """Assign the partitions; no fetch yet."""
        self._thread = FakeThread({TopicPartition(*tp) for tp in assigned})
        self.app = SimpleNamespace(consumer_generation_id=1)
        self.fetched_with: list[set[TP] | None] = []

    def assignment(self) -> set[TP]:
        """Return faust's TPs of the assignment."""
        return {TP(tp.topic, tp.partition) for tp in self._thread.kafka.assigned}

    def _is_changelog_tp(self, tp: TP) -> bool:
        """Whether the partition is a table's changelog."""
        return tp.topic == CHANGELOG

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        """Note what aiokafka was asked for; return nothing."""
        self.fetched_with.append(active_partitions)
        return {}


class Mixed(UnreadChangelogs, Base):
    """The mix-in over the stand-in, as use_unread_pausing mixes it over faust's consumer."""


def paused(consumer: Mixed) -> set[TP]:
    """Return the partitions paused in the fake aiokafka consumer, as faust's TPs."""
    return {TP(tp.topic, tp.partition) for tp in consumer._thread.kafka.state}


async def test_changelogs_faust_does_not_read_are_paused_before_the_fetch() -> None:
    """After recovery faust reads only the source: its changelogs are paused in aiokafka."""
    consumer = Mixed({C0, C1, S0})
    await consumer._getmany({S0}, 1.0)
    assert paused(consumer) == {C0, C1}
    assert consumer.fetched_with == [{S0}]


async def test_changelogs_faust_reads_again_are_resumed() -> None:
    """A recovery reads a changelog again: it is resumed before the fetch that needs it."""
    consumer = Mixed({C0, C1, S0})
    await consumer._getmany({S0}, 1.0)
    await consumer._getmany({S0, C1}, 1.0)
    assert paused(consumer) == {C0}
    await consumer._getmany(None, 1.0)  # faust reads every assigned partition
    assert paused(consumer) == set()


async def test_an_unchanged_read_set_does_not_call_the_thread() -> None:
    """Only a change of what faust reads costs a call to the consumer thread."""
    consumer = Mixed({C0, C1, S0})
    for _ in range(5):
        await consumer._getmany({S0}, 1.0)
    assert consumer._thread.calls == 1


async def test_a_new_generation_pauses_the_unread_changelogs_again() -> None:
    """aiokafka starts a new assignment unpaused: the same unread set is applied again."""
    consumer = Mixed({C0, C1, S0})
    await consumer._getmany({S0}, 1.0)
    consumer._thread.kafka.state.clear()  # a rebalance assigned the same partitions afresh
    consumer.app.consumer_generation_id = 2
    await consumer._getmany({S0}, 1.0)
    assert paused(consumer) == {C0, C1}
    assert consumer._thread.calls == 2


async def test_source_partitions_faust_does_not_read_are_left_alone() -> None:
    """A paused source partition (flow control, the intake) is not this mix-in's to pause."""
    consumer = Mixed({C0, S0})
    await consumer._getmany(set(), 1.0)
    assert paused(consumer) == {C0}


async def test_only_assigned_partitions_are_paused() -> None:
    """aiokafka pauses only its assignment: others are left out of the call."""
    thread = FakeThread({TopicPartition(*C0)})
    await pause_in_aiokafka(thread, {C0, C1}, set())
    assert thread.kafka.state == {TopicPartition(CHANGELOG, 0)}


def test_the_app_s_consumer_pauses_unread_changelogs_over_the_consumer_it_had() -> None:
    """use_unread_pausing puts the mix-in first, over whatever consumer class the app had."""
    app = faust.App("unread-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    before: Any = app.transport.Consumer
    use_unread_pausing(app)
    after: Any = app.transport.Consumer
    assert after.__mro__[1:3] == (UnreadChangelogs, before)


def test_faust_s_consumer_has_the_seams_the_mix_in_uses() -> None:
    """faust's `_getmany(active_partitions, timeout)`, `_is_changelog_tp` and the thread's calls."""
    assert list(inspect.signature(Consumer._getmany).parameters) == [
        "self",
        "active_partitions",
        "timeout",
    ]
    assert inspect.iscoroutinefunction(Consumer._getmany)
    assert list(inspect.signature(FaustConsumer._is_changelog_tp).parameters) == ["self", "tp"]
    assert list(inspect.signature(AIOKafkaConsumerThread._ensure_consumer).parameters) == ["self"]
    assert inspect.iscoroutinefunction(AIOKafkaConsumerThread.call_thread)


def test_faust_pauses_a_partition_only_in_its_own_read_set() -> None:
    """faust's pause_partitions leaves aiokafka alone: the reason this mix-in exists."""
    source = inspect.getsource(FaustConsumer.pause_partitions)
    assert "_thread" not in source
    assert "_get_active_partitions().difference_update" in source
