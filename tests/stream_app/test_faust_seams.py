"""The readiness gate (stream_app.faust.gate), and the faust internals it relies on."""

from __future__ import annotations

from typing import Any

import faust
import pytest
from aiokafka.client import AIOKafkaClient
from faust.exceptions import PartitionsMismatch
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer

from stream_app.errors import TopicsNotReadyError
from stream_app.faust import gate
from stream_app.faust.gate import TopicGate, unready, wait_for_partitions


class Client:
    """Stands in for aiokafka's client: each refresh moves the metadata one step on."""

    def __init__(self, counts: dict[str, int | None], steps: list[dict[str, int | None]]) -> None:
        """Start from `counts`; each refresh applies the next of `steps`."""
        self.counts, self.steps, self.refreshes = counts, steps, 0

    async def force_metadata_update(self) -> bool:
        """Apply the next step, as a metadata response would."""
        self.refreshes += 1
        if self.steps:
            self.counts.update(self.steps.pop(0))
        return True


class Thread:
    """Stands in for faust's consumer thread: runs the call at once."""

    def __init__(self, client: Client) -> None:
        """Keep the client behind `_ensure_consumer()._client`."""
        self.consumer = type("AIOKafkaConsumer", (), {"_client": client})()

    def _ensure_consumer(self) -> Any:
        """Return the consumer holding the client."""
        return self.consumer

    async def call_thread(self, fun: Any) -> Any:
        """Run the function (the real one runs it on the consumer's loop)."""
        return await fun()


class FakeConsumer:
    """Stands in for faust's consumer: its metadata snapshot and its thread."""

    def __init__(self, client: Client) -> None:
        """Read counts from the client's metadata."""
        self.client = client
        self._thread = Thread(client)

    def topic_partitions(self, topic: str) -> int | None:
        """Return the count in the snapshot."""
        return self.client.counts.get(topic)


def app_with(counts: dict[str, int | None], *steps: dict[str, int | None]) -> Any:
    """Return an object shaped like the app where the gate looks."""
    return type("App", (), {"consumer": FakeConsumer(Client(counts, list(steps)))})()


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll without pausing (the fake metadata changes on refresh, not with time)."""
    monkeypatch.setattr(gate, "METADATA_POLL_SECONDS", 0)


async def test_ready_topics_pass_without_a_refresh() -> None:
    """When every topic shows the count, the gate returns at once."""
    app = app_with({"a": 4, "a-changelog": 4})
    await wait_for_partitions(app, ["a", "a-changelog"], 4, seconds=5)
    assert app.consumer.client.refreshes == 0


async def test_the_gate_refreshes_until_a_new_changelog_has_its_partitions() -> None:
    """A changelog created a moment ago shows 0 partitions until the metadata is refreshed."""
    app = app_with({"a": 4, "a-changelog": 0}, {}, {"a-changelog": 4})
    await wait_for_partitions(app, ["a", "a-changelog"], 4, seconds=5)
    assert app.consumer.client.refreshes == 2


async def test_the_gate_fails_clearly_when_a_topic_never_shows() -> None:
    """A topic missing for the whole wait stops the worker with the names and counts."""
    app = app_with({"a": 4, "a-changelog": 3})
    with pytest.raises(TopicsNotReadyError, match=r"'a-changelog': 3.*topics create"):
        await wait_for_partitions(app, ["a", "a-changelog"], 4, seconds=0.05)


async def test_the_gate_checks_until_it_passes_then_never_again() -> None:
    """Once every topic showed its count, later records pass without looking."""
    app = app_with({"a": 0}, {"a": 4})
    gate = TopicGate(app, ["a"], 4, seconds=5)
    await gate.wait()
    app.consumer.client.counts["a"] = 0  # faust caches its own check the same way
    await gate.wait()
    assert app.consumer.client.refreshes == 1


def test_unready_names_only_the_topics_off_the_count() -> None:
    """Known wrong counts are reported; right and unknown (None) ones are not."""
    app = app_with({"a": 4, "b": 0})
    assert unready(app, ["a", "b", "c"], 4) == {"b": 0}


async def test_a_member_that_is_not_the_leader_passes_at_once() -> None:
    """Only the leader keeps aiokafka's snapshot: elsewhere every count is None, as faust allows."""
    app = app_with({})
    await wait_for_partitions(app, ["a", "a-changelog"], 4, seconds=0.05)
    assert app.consumer.client.refreshes == 0


def test_faust_checks_a_changelog_against_the_consumer_count_the_gate_waits_on() -> None:
    """faust raises PartitionsMismatch when the consumer's metadata shows 0 for the changelog."""
    app = faust.App("seams", store="memory://", autodiscover=False)
    table: Any = app.Table("contacts", partitions=4)
    counts: dict[str, int | None] = {"source": 4, table.changelog_topic_name: 0}
    app.consumer = FakeConsumer(Client(counts, []))  # type: ignore[assignment]
    with pytest.raises(PartitionsMismatch):
        table._verify_source_topic_partitions("source")
    counts[table.changelog_topic_name] = 4
    table._verify_source_topic_partitions("source")


def test_faust_lets_a_changelog_unknown_to_the_snapshot_pass() -> None:
    """faust skips the check when the count is None, as on a member that is not the leader."""
    app = faust.App("seams", store="memory://", autodiscover=False)
    table: Any = app.Table("contacts", partitions=4)
    app.consumer = FakeConsumer(Client({"source": 4}, []))  # type: ignore[assignment]
    table._verify_source_topic_partitions("source")


def test_faust_names_changelogs_as_topics_create_does() -> None:
    """faust's changelog name is `<app id>-<table>-changelog`, as topics.changelog_topic builds."""
    from intercom_stream.topics import changelog_topic

    app = faust.App("seams", store="memory://", autodiscover=False)
    table: Any = app.Table("contacts")
    assert table.changelog_topic_name == changelog_topic("seams", "contacts")


def test_faust_private_attributes_the_seams_use_exist() -> None:
    """The consumer thread, its call_thread and consumer, and aiokafka's metadata refresh."""
    assert hasattr(Consumer, "_new_consumer_thread")
    assert callable(AIOKafkaConsumerThread.call_thread)
    assert callable(AIOKafkaConsumerThread._ensure_consumer)
    assert callable(AIOKafkaConsumerThread.topic_partitions)
    assert callable(AIOKafkaClient.force_metadata_update)
