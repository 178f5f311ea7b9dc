"""The consumer's intake of low-priority topics: their records handed to faust a few at a time.

faust hands every record a fetch returned to its agents' buffers before it asks for more
(aiokafka's `getmany` has no record limit here), one `wait_first` each, on the event loop the
live agents share. The first fetch of a replay carried thousands of records; handing them out
held the loop and the next fetch, so live records waited up to a second (issue 12), and a
lane that held its records back filled its buffer until faust blocked the whole consumer on
it. The intake sets the fetched records of low-priority topics (the replay lanes) aside and
hands faust only as many as the lane's allowance says, in offset order; live records pass at
once. Records set aside were fetched but not delivered: as with records in aiokafka's own
buffer, faust has not seen them, so a seek, a revocation or a new generation drops them.

Every fetched record is taken out of aiokafka's buffer at once: a partition with records left
there holds back the next fetch of every partition of its broker for aiokafka's 100 ms
prefetch backoff. A partition with HOLD_RECORDS set aside is paused in aiokafka instead (it is
not fetched, and aiokafka reads again from where its records were handed out), and resumed
once fewer than half remain.

Private seams: faust's `Consumer._getmany`, `perform_seek`, `_seek` and
`on_partitions_revoked`, checked by tests/stream_app/test_faust_intake.py.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import faust
from faust.types import TP

from stream_app.faust.unread import pause_in_aiokafka

POLL_SECONDS = 0.01  # how often a consumer holding records asks the lane again
HOLD_RECORDS = 50  # records set aside per partition before it is paused in aiokafka
RecordMap = Mapping[TP, list[Any]]
Allowance = Callable[[int], int]  # records released and not taken yet -> how many faust may take


def unlimited(in_flight: int) -> int:
    """Let everything through (no lane has registered an allowance)."""
    return 1 << 30


class Intake:
    """Records of low-priority topics set aside, released as the lane's allowance says."""

    def __init__(self, topics: Iterable[str], allowance: Allowance = unlimited) -> None:
        """Hold records of `topics`; `allowance` says how many faust may take now."""
        self.topics = frozenset(topics)
        self.allowance = allowance
        self.held: dict[TP, deque[Any]] = {}
        self.released: dict[TP, deque[int]] = {}  # offsets handed to faust, not taken yet
        self.generation: int | None = None
        self.paused: set[TP] = set()  # partitions paused in aiokafka because of what is held

    def to_pause(self) -> set[TP]:
        """Return the partitions to pause: HOLD_RECORDS or more set aside, not paused yet."""
        return {tp for tp, q in self.held.items() if len(q) >= HOLD_RECORDS} - self.paused

    def to_resume(self) -> set[TP]:
        """Return the paused partitions with fewer than half of HOLD_RECORDS set aside."""
        return {tp for tp in self.paused if len(self.held.get(tp, ())) < HOLD_RECORDS // 2}

    def keep(self, records: RecordMap, generation: int) -> dict[TP, list[Any]]:
        """Set the low-priority records aside; return the others."""
        if generation != self.generation:
            self.drop()
            self.generation = generation
        passed = {}
        for tp, batch in records.items():
            if tp.topic in self.topics:
                self.held.setdefault(tp, deque()).extend(batch)
            else:
                passed[tp] = batch
        return passed

    def take(self, topic: str, partition: int, offset: int) -> None:
        """Note that the lane took the record at `offset`: it and those before are not in flight."""
        queue = self.released.get(TP(topic, partition))
        while queue and queue[0] <= offset:
            queue.popleft()

    def serving(self, active: set[TP] | None = None) -> list[TP]:
        """Return the partitions holding records that faust reads now (`active`).

        faust drops a record of any other partition; it pauses them all while it recovers.
        """
        return [tp for tp in self.held if active is None or tp in active]

    def allowed(self, active: set[TP] | None = None) -> int:
        """Return how many held records the lane would take now (0: none faust would read)."""
        return self.allowance(self.in_flight()) if self.serving(active) else 0

    def release(self, active: set[TP] | None = None) -> dict[TP, list[Any]]:
        """Take as many held records as the allowance gives, round robin over partitions."""
        count = self.allowed(active)
        out: dict[TP, list[Any]] = {}
        while count > 0 and (serving := self.serving(active)):
            for tp in serving[:count]:
                queue = self.held[tp]
                record = queue.popleft()
                out.setdefault(tp, []).append(record)
                self.released.setdefault(tp, deque()).append(record.offset)
                count -= 1
                if not queue:
                    del self.held[tp]
        return out

    def in_flight(self) -> int:
        """Return how many released records the lane has not taken yet."""
        return sum(len(queue) for queue in self.released.values())

    def drop(self, tps: Iterable[TP] | None = None) -> None:
        """Forget the records set aside (all, or of `tps`): faust reads them again after a seek."""
        for tp in list(self.held) if tps is None else tps:
            self.held.pop(tp, None)
            self.released.pop(tp, None)
            self.paused.discard(tp)  # the caller resumes it in aiokafka (a new assignment does)
        if tps is None:
            self.released.clear()
            self.paused.clear()


class IntakeConsumer:
    """The consumer methods that route fetched records through an Intake (a mixin)."""

    intake: Intake
    app: Any  # faust's App (the consumer class this is mixed into has it)
    _thread: Any  # faust's AIOKafkaConsumerThread

    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109 - faust's
    ) -> RecordMap:
        """Fetch, set the low-priority records aside, add those the lane allows."""
        intake, app, active = self.intake, self.app, active_partitions
        wait = timeout if not intake.held else 0.0 if intake.allowed(active) else POLL_SECONDS
        records = await super()._getmany(active_partitions, min(timeout, wait))  # type: ignore[misc]
        passed = intake.keep(records, app.consumer_generation_id)
        passed.update(intake.release(active))
        await self._flow(intake.to_pause(), intake.to_resume())
        return passed

    async def _flow(self, pause: set[TP], resume: set[TP]) -> None:
        """Pause and resume partitions in aiokafka, on the consumer's thread."""
        if not (pause or resume):
            return
        await pause_in_aiokafka(self._thread, pause, resume)
        self.intake.paused = (self.intake.paused | pause) - resume

    async def perform_seek(self) -> None:
        """Drop what is set aside, then seek every partition to its commit as faust does."""
        paused = set(self.intake.paused)
        self.intake.drop()
        await self._flow(set(), paused)  # aiokafka's seek leaves a paused partition paused
        await super().perform_seek()  # type: ignore[misc]

    async def _seek(self, partition: TP, offset: int) -> None:
        """Drop the partition's records set aside, resume it if paused, then seek it."""
        paused = self.intake.paused & {partition}
        self.intake.drop([partition])
        await self._flow(set(), paused)
        await super()._seek(partition, offset)  # type: ignore[misc]

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Drop the revoked partitions' records set aside, then let faust revoke them."""
        self.intake.drop(revoked)
        await super().on_partitions_revoked(revoked)  # type: ignore[misc]


def use_intake(app: faust.App, topics: Iterable[str]) -> Intake:
    """Make the app's consumer route `topics` through an Intake; return it for the lane."""
    intake = Intake(topics)
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    base = transport.Consumer
    attributes = {"intake": intake, "__doc__": base.__doc__}
    transport.Consumer = type(f"Intake{base.__name__}", (IntakeConsumer, base), attributes)
    return intake
