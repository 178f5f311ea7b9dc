"""A stand-in for faust's consumer thread and its aiokafka consumer, for the consumer mix-ins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition


class FakeKafka:
    """aiokafka's consumer as the mix-ins use it: its assignment, pause() and resume()."""

    def __init__(self, thread: FakeThread, assigned: set[TopicPartition]) -> None:
        """Assign the partitions; nothing paused yet."""
        self.thread = thread
        self.assigned = assigned
        self.paused: list[tuple[TopicPartition, ...]] = []
        self.resumed: list[tuple[TopicPartition, ...]] = []
        self.state: set[TopicPartition] = set()  # paused now

    def assignment(self) -> set[TopicPartition]:
        """Return aiokafka's TopicPartitions, as aiokafka does."""
        return set(self.assigned)

    def pause(self, *tps: TopicPartition) -> None:
        """Note a pause (only on the consumer's thread, only of aiokafka's own partitions)."""
        assert self.thread.on_thread, "pause() called outside call_thread"
        assert all(isinstance(tp, TopicPartition) for tp in tps)
        self.state.update(tps)
        if tps:
            self.paused.append(tps)

    def resume(self, *tps: TopicPartition) -> None:
        """Note a resume (only on the consumer's thread, only of aiokafka's own partitions)."""
        assert self.thread.on_thread, "resume() called outside call_thread"
        assert all(isinstance(tp, TopicPartition) for tp in tps)
        self.state.difference_update(tps)
        if tps:
            self.resumed.append(tps)


class FakeThread:
    """faust's consumer thread: its aiokafka consumer and call_thread (counted)."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        """Own a fake aiokafka consumer of the assigned partitions."""
        self.on_thread = False
        self.calls = 0
        self.kafka = FakeKafka(self, assigned)

    def _ensure_consumer(self) -> FakeKafka:
        """Return the aiokafka consumer."""
        return self.kafka

    async def call_thread(self, fun: Callable[[], Any]) -> Any:
        """Run the coroutine function as if on the thread."""
        self.calls += 1
        self.on_thread = True
        try:
            return await fun()
        finally:
            self.on_thread = False
