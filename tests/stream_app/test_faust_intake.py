"""The intake of low-priority topics (stream_app.faust.intake) and the faust internals it needs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faust.transport.drivers.aiokafka import (
    AIOKafkaConsumerThread,
    Consumer,
    ConsumerRebalanceListener,
)
from faust.types import TP

from stream_app.faust.intake import (
    HOLD_RECORDS,
    POLL_SECONDS,
    Intake,
    IntakeConsumer,
    unlimited,
    use_intake,
)
from stream_app.faust.seek import SeekingConsumer, use_seeking_consumer
from tests.stream_app.consumer_thread import FakeKafka, FakeThread

REPLAY, LIVE = "n.replay", "n"
R0, R1, R2 = TP(REPLAY, 0), TP(REPLAY, 1), TP(REPLAY, 2)
L0 = TP(LIVE, 0)


@dataclass(frozen=True)
class Record:
    """The fields of a fetched record the intake reads."""

    topic: str
    partition: int
    offset: int


def records(tp: TP, *offsets: int) -> list[Any]:
    """Return records of the partition at the offsets."""
    return [Record(tp.topic, tp.partition, offset) for offset in offsets]


def offsets(batches: Mapping[TP, Iterable[Any]]) -> dict[TP, list[int]]:
    """Return each partition's offsets (what a record map carries, in order)."""
    return {tp: [r.offset for r in batch] for tp, batch in batches.items()}


def holding(allowance: Callable[[int], int], **held: list[Any]) -> Intake:
    """Return an intake of REPLAY holding the given records (generation 1)."""
    intake = Intake([REPLAY], allowance)
    for batch in held.values():
        intake.keep({TP(REPLAY, batch[0].partition): batch}, 1)
    return intake


class Asked:
    """An allowance that answers `give` and notes each in-flight count it was asked with."""

    def __init__(self, give: int) -> None:
        """Answer `give` until told otherwise."""
        self.give = give
        self.asked: list[int] = []

    def __call__(self, in_flight: int) -> int:
        """Note the question, give the answer."""
        self.asked.append(in_flight)
        return self.give


# Intake: setting aside and releasing.


def test_only_the_intake_s_topics_are_set_aside() -> None:
    """Live records come back as they were (the same lists); replayed ones are held in order."""
    intake = Intake([REPLAY])
    live = records(L0, 7, 8)
    passed = intake.keep({R0: records(R0, 3, 4), L0: live}, 1)
    assert passed == {L0: live}
    assert passed[L0] is live
    assert offsets(intake.held) == {R0: [3, 4]}


def test_records_set_aside_by_two_fetches_queue_up_in_offset_order() -> None:
    """A second fetch of the same generation adds behind what is held."""
    intake = Intake([REPLAY])
    intake.keep({R0: records(R0, 3, 4)}, 1)
    intake.keep({R0: records(R0, 5)}, 1)
    assert offsets(intake.held) == {R0: [3, 4, 5]}


def test_release_gives_the_allowance_round_robin_in_offset_order() -> None:
    """Five allowed of 5 + 3 held: one from each partition in turn, each in offset order."""
    allowance = Asked(5)
    intake = holding(allowance, a=records(R0, 0, 1, 2, 3, 4), b=records(R1, 0, 1, 2))
    assert offsets(intake.release()) == {R0: [0, 1, 2], R1: [0, 1]}
    assert offsets(intake.held) == {R0: [3, 4], R1: [2]}
    assert allowance.asked == [0]


def test_release_gives_no_more_than_is_held() -> None:
    """A large allowance empties the intake and stops."""
    intake = holding(unlimited, a=records(R0, 0, 1), b=records(R1, 0))
    assert offsets(intake.release()) == {R0: [0, 1], R1: [0]}
    assert intake.held == {}


def test_release_serves_only_the_partitions_faust_reads() -> None:
    """A partition outside `active` keeps its records; the allowance goes to the others."""
    intake = holding(Asked(3), a=records(R0, 0, 1), b=records(R1, 0, 1, 2, 3))
    assert offsets(intake.release({R1, L0})) == {R1: [0, 1, 2]}
    assert offsets(intake.held) == {R0: [0, 1], R1: [3]}


def test_release_with_nothing_allowed_gives_nothing() -> None:
    """An allowance of 0 (or less) leaves everything held."""
    for give in (0, -2):
        intake = holding(Asked(give), a=records(R0, 0, 1))
        assert intake.release() == {}
        assert offsets(intake.held) == {R0: [0, 1]}


def test_release_with_nothing_held_does_not_ask_the_lane() -> None:
    """No records held: nothing released and the allowance never called."""
    allowance = Asked(5)
    intake = Intake([REPLAY], allowance)
    intake.keep({L0: records(L0, 0)}, 1)
    assert intake.release() == {}
    assert intake.allowed() == 0
    assert allowance.asked == []


# Intake: records in flight.


def test_records_released_and_not_taken_are_in_flight() -> None:
    """in_flight counts each partition's released records the lane has not taken yet."""
    allowance = Asked(5)
    intake = holding(allowance, a=records(R0, 0, 1, 2), b=records(R1, 0, 1, 2))
    intake.release()  # R0: 0, 1, 2; R1: 0, 1
    assert intake.in_flight() == 5
    intake.take(REPLAY, 0, 0)
    assert intake.in_flight() == 4
    intake.take(REPLAY, 0, 2)
    assert intake.in_flight() == 2
    intake.take(REPLAY, 1, 1)
    assert intake.in_flight() == 0
    intake.release()  # R1: 2, the lane asked with nothing in flight
    assert allowance.asked[-1] == 0
    assert intake.in_flight() == 1


def test_a_take_past_the_release_never_makes_in_flight_negative() -> None:
    """The lane taking an offset beyond what was released counts as nothing in flight there."""
    intake = holding(Asked(2), a=records(R0, 0, 1), b=records(R1, 0, 1))
    intake.release()  # R0: 0; R1: 0
    intake.take(REPLAY, 0, 9)
    assert intake.in_flight() == 1  # R1's record, not 1 - 9


def test_the_lane_is_asked_with_what_is_in_flight() -> None:
    """The allowance is called with in_flight(): the lane's window is what it says."""
    allowance = Asked(2)
    intake = holding(allowance, a=records(R0, 0, 1, 2, 3))
    intake.release()
    intake.release()
    assert allowance.asked == [0, 2]


def test_records_released_from_a_partition_not_taken_from_yet_count_as_their_number() -> None:
    """Two records released at offsets 500 and 501: two in flight."""
    intake = holding(Asked(2), a=records(R0, 500, 501, 502))
    intake.release()
    assert intake.in_flight() == 2


def test_records_released_again_after_a_seek_back_count_as_in_flight() -> None:
    """Taken up to 4, seek back to 0 (drop), 2 released again: 2 in flight."""
    intake = holding(Asked(4), a=records(R0, 0, 1, 2, 3))
    intake.release()
    intake.take(REPLAY, 0, 3)
    intake.drop([R0])  # what _seek does before faust reads from offset 0 again
    intake.keep({R0: records(R0, 0, 1)}, 1)
    intake.release()
    assert intake.in_flight() == 2


# Intake: dropping.


def test_a_new_generation_drops_what_was_held() -> None:
    """Records of the previous generation are forgotten; the new fetch is held alone."""
    intake = holding(Asked(1), a=records(R0, 0, 1, 2), b=records(R1, 0))
    intake.release()
    intake.paused = {R0}
    intake.keep({R1: records(R1, 5)}, 1)  # same generation: added
    assert offsets(intake.held) == {R0: [1, 2], R1: [0, 5]}
    passed = intake.keep({R2: records(R2, 7), L0: records(L0, 1)}, 2)
    assert offsets(passed) == {L0: [1]}
    assert offsets(intake.held) == {R2: [7]}
    assert intake.released == {}
    assert intake.paused == set()
    assert intake.generation == 2


def test_dropping_partitions_forgets_only_theirs() -> None:
    """drop(tps) forgets those partitions' held records, releases and pauses; others stay."""
    intake = holding(Asked(2), a=records(R0, 0, 1), b=records(R1, 0, 1))
    intake.release()  # R0: 0; R1: 0
    intake.paused = {R0, R1}
    intake.drop([R0, R2])  # R2 holds nothing: no error
    assert offsets(intake.held) == {R1: [1]}
    assert {tp: list(q) for tp, q in intake.released.items()} == {R1: [0]}
    assert intake.paused == {R1}
    assert intake.in_flight() == 1


def test_dropping_everything_clears_the_pauses() -> None:
    """drop() forgets every held record and release, and every pause, held or not."""
    intake = holding(Asked(2), a=records(R0, 0, 1), b=records(R1, 0, 1))
    intake.release()
    intake.paused = {R0, R2}  # R2 holds nothing any more but is still paused
    intake.drop()
    assert intake.held == {}
    assert intake.released == {}
    assert intake.paused == set()
    assert intake.in_flight() == 0


# Intake: pause thresholds.


def test_a_partition_is_paused_once_it_holds_hold_records() -> None:
    """HOLD_RECORDS - 1 held: no pause; HOLD_RECORDS: pause; already paused: not again."""
    intake = holding(Asked(0), a=records(R0, *range(HOLD_RECORDS - 1)))
    assert intake.to_pause() == set()
    intake.keep({R0: records(R0, HOLD_RECORDS - 1)}, 1)
    assert intake.to_pause() == {R0}
    intake.paused = {R0}
    assert intake.to_pause() == set()


def test_a_paused_partition_is_resumed_below_half() -> None:
    """HOLD_RECORDS // 2 held: still paused; one fewer: resume; nothing held: resume."""
    half = HOLD_RECORDS // 2
    intake = holding(Asked(0), a=records(R0, *range(half)))
    intake.paused = {R0, R1}  # R1 holds nothing
    assert intake.to_resume() == {R1}
    intake.held[R0].popleft()
    assert intake.to_resume() == {R0, R1}


def test_records_held_on_an_unpaused_partition_are_not_resumed() -> None:
    """to_resume names only paused partitions."""
    intake = holding(Asked(0), a=records(R0, 0))
    assert intake.to_resume() == set()


# IntakeConsumer over a stand-in for faust's consumer.


class Base:
    """faust's consumer as the mixin uses it: canned fetches and the calls it passes on."""

    def __init__(self) -> None:
        """Nothing fetched or called yet."""
        self.fetches: list[dict[TP, list[Any]]] = []
        self.waits: list[float] = []
        self.calls: list[tuple[Any, ...]] = []

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        """Return the next canned fetch (nothing once they are used up), noting the wait."""
        self.waits.append(timeout)
        return self.fetches.pop(0) if self.fetches else {}

    def held_now(self) -> dict[TP, list[int]]:
        """Return what the intake holds (as the base method is called)."""
        intake: Intake = self.intake  # type: ignore[attr-defined]
        return offsets(intake.held)

    async def perform_seek(self) -> None:
        """Note the seek and what was held then."""
        self.calls.append(("perform_seek", self.held_now()))

    async def _seek(self, partition: TP, offset: int) -> None:
        """Note the seek and what was held then."""
        self.calls.append(("_seek", partition, offset, self.held_now()))

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Note the revocation and what was held then."""
        self.calls.append(("on_partitions_revoked", revoked, self.held_now()))


class Mixed(IntakeConsumer, Base):
    """The mixin over the stand-in, as use_intake mixes it over faust's consumer."""


def mixed(
    allowance: Callable[[int], int] = unlimited,
    assigned: tuple[TP, ...] = (R0, R1, L0),
) -> Mixed:
    """Return a consumer with an intake of REPLAY, generation 1, the partitions assigned."""
    consumer = Mixed()
    consumer.intake = Intake([REPLAY], allowance)
    consumer.app = SimpleNamespace(consumer_generation_id=1)
    consumer._thread = FakeThread({TopicPartition(*tp) for tp in assigned})
    return consumer


def kafka(consumer: Mixed) -> FakeKafka:
    """Return the consumer's fake aiokafka consumer."""
    thread: FakeThread = consumer._thread
    return thread.kafka


ACTIVE = {R0, R1, L0}


async def test_live_records_pass_at_once_after_the_full_wait() -> None:
    """Nothing held: the base waits the whole timeout and live records come straight back."""
    consumer = mixed(Asked(0))
    live = records(L0, 4, 5)
    consumer.fetches = [{L0: live}]
    assert await consumer._getmany(ACTIVE, 1.5) == {L0: live}
    assert consumer.waits == [1.5]


async def test_replayed_records_come_out_as_the_allowance_says() -> None:
    """Two at a time: the fetch's five come out over three calls, with the live ones at once."""
    consumer = mixed(Asked(2))
    consumer.fetches = [{R0: records(R0, 0, 1, 2, 3, 4), L0: records(L0, 9)}]
    assert offsets(await consumer._getmany(ACTIVE, 1.5)) == {L0: [9], R0: [0, 1]}
    assert offsets(await consumer._getmany(ACTIVE, 1.5)) == {R0: [2, 3]}
    assert offsets(await consumer._getmany(ACTIVE, 1.5)) == {R0: [4]}
    assert consumer.waits == [1.5, 0.0, 0.0]  # records held and allowed: no wait
    assert await consumer._getmany(ACTIVE, 1.5) == {}
    assert consumer.waits[-1] == 1.5  # nothing held: the full wait again


async def test_held_records_the_lane_refuses_shorten_the_wait_to_a_poll() -> None:
    """Held and not allowed: the base waits POLL_SECONDS, or the timeout if that is shorter."""
    allowance = Asked(0)
    consumer = mixed(allowance)
    consumer.fetches = [{R0: records(R0, 0, 1)}]
    assert await consumer._getmany(ACTIVE, 1.5) == {}
    assert await consumer._getmany(ACTIVE, 1.5) == {}
    assert await consumer._getmany(ACTIVE, POLL_SECONDS / 2) == {}
    assert consumer.waits == [1.5, POLL_SECONDS, POLL_SECONDS / 2]
    allowance.give = 1
    assert offsets(await consumer._getmany(ACTIVE, 1.5)) == {R0: [0]}
    assert consumer.waits[-1] == 0.0


async def test_records_of_a_partition_faust_does_not_read_stay_held() -> None:
    """Records held for a partition left out of the active set are not handed to faust."""
    consumer = mixed(unlimited)
    consumer.fetches = [{R0: records(R0, 0), R1: records(R1, 0)}]
    assert offsets(await consumer._getmany({R1, L0}, 1.5)) == {R1: [0]}
    assert offsets(consumer.intake.held) == {R0: [0]}
    assert offsets(await consumer._getmany(ACTIVE, 1.5)) == {R0: [0]}


async def test_records_held_only_where_faust_does_not_read_do_not_spin_the_consumer() -> None:
    """With the lane willing but nothing held faust would read, the base still waits a poll."""
    consumer = mixed(unlimited)
    consumer.fetches = [{R0: records(R0, 0)}]
    assert await consumer._getmany({L0}, 1.5) == {}  # faust reads only the live partition now
    assert await consumer._getmany({L0}, 1.5) == {}
    assert consumer.waits == [1.5, POLL_SECONDS]
    assert offsets(consumer.intake.held) == {R0: [0]}


async def test_a_partition_holding_hold_records_is_paused_then_resumed_below_half() -> None:
    """Paused once (on the thread, as aiokafka's TopicPartition) and resumed once."""
    allowance = Asked(0)
    consumer = mixed(allowance)
    consumer.fetches = [
        {R0: records(R0, *range(HOLD_RECORDS - 1)), R1: records(R1, 0)},
        {R0: records(R0, HOLD_RECORDS - 1)},
    ]
    await consumer._getmany(ACTIVE, 1.5)
    assert kafka(consumer).paused == []
    await consumer._getmany(ACTIVE, 1.5)
    assert kafka(consumer).paused == [(TopicPartition(REPLAY, 0),)]
    assert all(type(tp) is TopicPartition for tp in kafka(consumer).paused[0])
    assert consumer.intake.paused == {R0}
    await consumer._getmany(ACTIVE, 1.5)  # still held: not paused again
    assert len(kafka(consumer).paused) == 1
    allowance.give = HOLD_RECORDS - HOLD_RECORDS // 2  # leaves HOLD_RECORDS // 2 held
    await consumer._getmany({R0, L0}, 1.5)
    assert kafka(consumer).resumed == []
    allowance.give = 1
    await consumer._getmany({R0, L0}, 1.5)
    assert kafka(consumer).resumed == [(TopicPartition(REPLAY, 0),)]
    assert consumer.intake.paused == set()


async def test_only_assigned_partitions_are_paused_in_aiokafka() -> None:
    """A held partition aiokafka no longer has assigned is not passed to pause()."""
    consumer = mixed(Asked(0), assigned=(R1, L0))
    consumer.fetches = [{R0: records(R0, *range(HOLD_RECORDS))}]
    await consumer._getmany(ACTIVE, 1.5)
    assert kafka(consumer).paused == []


async def test_perform_seek_drops_everything_held_then_seeks() -> None:
    """faust's seek to the committed offsets runs with nothing held."""
    consumer = mixed(Asked(0))
    consumer.fetches = [{R0: records(R0, 0), R1: records(R1, 0)}]
    await consumer._getmany(ACTIVE, 1.5)
    await consumer.perform_seek()
    assert consumer.calls == [("perform_seek", {})]


async def test_a_seek_drops_the_partition_s_records_then_seeks() -> None:
    """Seeking R0 forgets R0's held records only, then seeks as faust would."""
    consumer = mixed(Asked(0))
    consumer.fetches = [{R0: records(R0, 0), R1: records(R1, 0)}]
    await consumer._getmany(ACTIVE, 1.5)
    await consumer._seek(R0, 7)
    assert consumer.calls == [("_seek", R0, 7, {R1: [0]})]


async def test_a_revocation_drops_the_revoked_partitions_records_then_revokes() -> None:
    """Revoking R1 forgets R1's held records only, then faust revokes it."""
    consumer = mixed(Asked(0))
    consumer.fetches = [{R0: records(R0, 0), R1: records(R1, 0)}]
    await consumer._getmany(ACTIVE, 1.5)
    await consumer.on_partitions_revoked({R1})
    assert consumer.calls == [("on_partitions_revoked", {R1}, {R0: [0]})]


async def test_a_new_generation_s_fetch_drops_the_last_generation_s_records() -> None:
    """After a rebalance the held records of the old generation are never handed out."""
    allowance = Asked(0)
    consumer = mixed(allowance)
    consumer.fetches = [{R0: records(R0, 0, 1)}, {R0: records(R0, 0)}]
    await consumer._getmany(ACTIVE, 1.5)
    consumer.app.consumer_generation_id = 2
    allowance.give = 5
    assert offsets(await consumer._getmany(ACTIVE, 1.5)) == {R0: [0]}
    assert consumer.intake.held == {}


# use_intake on a real app.


def new_app() -> faust.App:
    """Return an app with nothing registered, its consumer not created yet."""
    return faust.App("intake", broker="kafka://127.0.0.1:9092", autodiscover=False)


async def test_the_app_s_consumer_routes_through_the_intake_over_the_consumer_it_had() -> None:
    """The consumer is an IntakeConsumer over the seeking consumer, holding the intake."""
    app = new_app()
    use_seeking_consumer(app)
    intake = use_intake(app, [REPLAY])
    consumer: Any = app.consumer
    try:
        assert isinstance(consumer, IntakeConsumer)
        assert isinstance(consumer, SeekingConsumer)
        mro = type(consumer).__mro__
        assert mro.index(IntakeConsumer) < mro.index(SeekingConsumer)
        assert consumer.intake is intake
        assert intake.topics == {REPLAY}
        assert intake.allowance is unlimited
    finally:
        consumer._thread.thread_loop.close()  # the thread never ran, so never closed it


# The faust and aiokafka internals the intake relies on.


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("_getmany", ["active_partitions", "timeout"]),
        ("perform_seek", []),
        ("_seek", ["partition", "offset"]),
        ("on_partitions_revoked", ["revoked"]),
    ],
)
def test_faust_s_consumer_has_the_coroutines_the_intake_overrides(
    name: str, parameters: list[str]
) -> None:
    """faust's aiokafka Consumer defines each as a coroutine function taking these arguments."""
    method = getattr(Consumer, name)
    assert inspect.iscoroutinefunction(method)
    assert list(inspect.signature(method).parameters) == ["self", *parameters]


def consumer_record(tp: TP, offset: int) -> ConsumerRecord[bytes, bytes]:
    """Return a record as aiokafka fetches it."""
    return ConsumerRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=b"v",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=1,
        headers=[],
    )


async def test_faust_drops_a_record_of_a_partition_neither_active_nor_buffered() -> None:
    """Why release() serves only `active`: faust's getmany skips any other partition's record."""
    active, buffered, other = TP("a", 0), TP("b", 0), TP("c", 0)
    consumer: Any = new_app().consumer
    try:
        fetched = {tp: [consumer_record(tp, 3)] for tp in (active, buffered, other)}

        async def wait_next_records(timeout: float) -> Any:
            return fetched, {active}

        consumer._wait_next_records = wait_next_records
        consumer.highwater = lambda tp: 4  # asks the consumer thread, which never started
        consumer._buffered_partitions.add(buffered)
        yielded = [(tp, message.offset) async for tp, message in consumer.getmany(1.0)]
        assert sorted(yielded) == [(active, 3), (buffered, 3)]
    finally:
        consumer._thread.thread_loop.close()


def test_faust_s_consumer_thread_runs_calls_on_its_aiokafka_consumer() -> None:
    """_flow reaches aiokafka's consumer by `_ensure_consumer()` and runs there by `call_thread`."""
    assert list(inspect.signature(AIOKafkaConsumerThread._ensure_consumer).parameters) == ["self"]
    assert inspect.iscoroutinefunction(AIOKafkaConsumerThread.call_thread)
    parameters = list(inspect.signature(AIOKafkaConsumerThread.call_thread).parameters)
    assert parameters[:2] == ["self", "fun"]


async def test_faust_sets_the_app_s_generation_when_partitions_are_assigned() -> None:
    """keep() reads `app.consumer_generation_id`: faust's listener sets it to aiokafka's."""
    assigned: list[Any] = []

    async def on_partitions_assigned(tps: Any, generation: int) -> None:
        assigned.append(generation)

    kafka = SimpleNamespace(_coordinator=SimpleNamespace(generation=7))
    thread: Any = SimpleNamespace(
        app=SimpleNamespace(consumer_generation_id=0),
        _ensure_consumer=lambda: kafka,
        on_partitions_assigned=on_partitions_assigned,
    )
    await ConsumerRebalanceListener(thread).on_partitions_assigned({TopicPartition(REPLAY, 0)})
    assert thread.app.consumer_generation_id == 7
    assert assigned == [7]
    assert new_app().consumer_generation_id == 0


async def test_aiokafka_pauses_only_its_own_topic_partitions() -> None:
    """pause()/resume() reject faust's TP; _flow passes aiokafka's own from assignment()."""
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9092")
    try:
        tp = TopicPartition(REPLAY, 0)
        consumer.assign([tp])
        with pytest.raises(TypeError, match="TopicPartition"):
            consumer.pause(R0)
        with pytest.raises(TypeError, match="TopicPartition"):
            consumer.resume(R0)
        consumer.pause(tp)
        assert consumer.paused() == {tp}
        consumer.resume(tp)
        assert consumer.paused() == set()
    finally:
        await consumer.stop()  # never started: this only marks it closed


def test_aiokafka_s_topic_partition_matches_faust_s_tp() -> None:
    """_flow finds faust's TPs among aiokafka's by equality and hash (both plain tuples)."""
    assert TopicPartition(REPLAY, 0) in {R0}
    assert TopicPartition(REPLAY, 1) not in {R0}
    assert {TopicPartition(REPLAY, 0)} - {R0} == set()
