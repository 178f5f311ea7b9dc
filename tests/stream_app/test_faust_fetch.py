"""What the consumer fetches (stream_app.faust.fetch) and the faust internals it needs."""

from __future__ import annotations

import inspect
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from stream_app.faust import fetch
from stream_app.faust.seek import SeekingConsumer, use_seeking_consumer


async def fetch_wait(app: faust.App) -> int:
    """Return the fetch wait of the aiokafka consumer the app's consumer thread builds."""
    thread: Any = app.consumer._thread  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(app.transport)
    await consumer.stop()  # never started: this only marks it closed
    thread.thread_loop.close()  # the thread never ran, so never closed the loop it made
    return int(consumer._fetch_max_wait_ms)


def new_app() -> faust.App:
    """Return an app with nothing registered, its consumer not created yet."""
    return faust.App("fetch-wait", broker="kafka://127.0.0.1:9092", autodiscover=False)


async def test_faust_hard_codes_a_fetch_wait_of_one_and_a_half_seconds() -> None:
    """faust's own consumer thread builds aiokafka's consumer with fetch_max_wait_ms=1500."""
    assert await fetch_wait(new_app()) == 1500


async def test_the_worker_consumer_waits_briefly_for_new_records() -> None:
    """With the short wait, the consumer thread builds its consumer with FETCH_WAIT_MS."""
    app = new_app()
    fetch.use_lean_fetch(app)
    assert isinstance(app.consumer._thread, fetch.LeanFetchConsumerThread)  # type: ignore[attr-defined]
    assert await fetch_wait(app) == fetch.FETCH_WAIT_MS


async def test_the_short_wait_keeps_the_consumer_class_it_is_given() -> None:
    """The seeking consumer stays the base, so its repaired seek still runs."""
    app = new_app()
    use_seeking_consumer(app)
    fetch.use_lean_fetch(app)
    assert isinstance(app.consumer, SeekingConsumer)
    await fetch_wait(app)


def test_aiokafka_builds_its_fetcher_with_the_consumer_s_wait() -> None:
    """AIOKafkaConsumer.start hands `_fetch_max_wait_ms` to the Fetcher it creates."""
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)


def test_faust_s_consumer_thread_builds_the_worker_consumer_in_one_method() -> None:
    """faust's thread creates a worker's aiokafka consumer in `_create_worker_consumer`."""
    source = inspect.getsource(AIOKafkaConsumerThread._create_consumer)
    assert "self._create_worker_consumer(transport)" in source


class Consumer:
    """aiokafka's consumer as `quiet` uses it: the assignment, and what is paused."""

    def __init__(self, assigned: set[TopicPartition], paused: set[TopicPartition]) -> None:
        """Assign `assigned`, with `paused` paused already (by anyone)."""
        self.assigned, self.paused_now = assigned, set(paused)

    def assignment(self) -> set[TopicPartition]:
        """Return the assigned partitions."""
        return set(self.assigned)

    def paused(self) -> set[TopicPartition]:
        """Return the paused partitions."""
        return set(self.paused_now)

    def pause(self, *tps: TopicPartition) -> None:
        """Pause, requiring aiokafka's TopicPartition as aiokafka does."""
        assert all(isinstance(tp, TopicPartition) for tp in tps)
        self.paused_now |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        """Resume, requiring aiokafka's TopicPartition as aiokafka does."""
        assert all(isinstance(tp, TopicPartition) for tp in tps)
        self.paused_now -= set(tps)


LIVE = [TopicPartition("live", p) for p in range(2)]
CHANGELOG = [TopicPartition("table-changelog", p) for p in range(2)]


def test_quiet_pauses_what_faust_does_not_read() -> None:
    """After recovery faust reads the live topic only: its changelogs are paused in aiokafka."""
    consumer = Consumer(set(LIVE + CHANGELOG), set())
    dormant = fetch.quiet(consumer, {TP("live", 0), TP("live", 1)}, set())
    assert dormant == set(CHANGELOG)
    assert consumer.paused_now == set(CHANGELOG)


def test_quiet_resumes_what_faust_reads_again() -> None:
    """A recovery makes a changelog active again: it is resumed, the other stays paused."""
    consumer = Consumer(set(LIVE + CHANGELOG), set(CHANGELOG))
    active = {TP("live", 0), TP("table-changelog", 1)}
    dormant = fetch.quiet(consumer, active, set(CHANGELOG))
    assert dormant == {CHANGELOG[0], LIVE[1]}
    assert consumer.paused_now == {CHANGELOG[0], LIVE[1]}


def test_quiet_leaves_partitions_someone_else_paused() -> None:
    """A partition the intake paused stays paused, and is not taken as dormant."""
    consumer = Consumer(set(LIVE), {LIVE[0]})
    dormant = fetch.quiet(consumer, {TP("live", 0), TP("live", 1)}, set())
    assert dormant == set()
    assert consumer.paused_now == {LIVE[0]}


def test_quiet_forgets_what_a_new_assignment_unpaused() -> None:
    """After a rebalance nothing is paused: partitions are paused again from what is active."""
    consumer = Consumer(set(LIVE + CHANGELOG), set())
    dormant = fetch.quiet(consumer, {TP("live", 0)}, set(CHANGELOG))
    assert dormant == {LIVE[1], *CHANGELOG}


def test_faust_and_aiokafka_partitions_are_interchangeable_in_sets() -> None:
    """faust's TP and aiokafka's TopicPartition are equal tuples with equal hashes."""
    assert TP("t", 1) in {TopicPartition("t", 1)}
    assert TopicPartition("t", 1) in {TP("t", 1)}


def test_faust_fetches_through_the_thread_s_fetch_records() -> None:
    """faust's thread `getmany` fetches with `_fetch_records(consumer, active_partitions, ...)`."""
    source = inspect.getsource(AIOKafkaConsumerThread.getmany)
    assert "self._fetch_records," in source
    parameters = list(inspect.signature(AIOKafkaConsumerThread._fetch_records).parameters)
    assert parameters == ["self", "consumer", "active_partitions", "timeout", "max_records"]


def test_faust_pauses_partitions_in_its_own_set_only() -> None:
    """faust's pause_partitions takes partitions out of its active set, not out of aiokafka."""
    source = inspect.getsource(FaustConsumer.pause_partitions)
    assert "_get_active_partitions().difference_update" in source
    assert "_ensure_consumer" not in source
    assert "_thread" not in source
