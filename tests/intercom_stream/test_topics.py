"""Integration tests of topic creation against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from intercom_stream.errors import TopicError
from intercom_stream.settings import Settings
from intercom_stream.topics import TopicSpec, ensure_topics, topic_specs

pytestmark = pytest.mark.integration


async def partitions_of(bootstrap: str, name: str) -> int:
    """Return the partition count of an existing topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [topic] = await admin.describe_topics([name])
        return len(topic["partitions"])
    finally:
        await admin.close()


async def test_create_is_idempotent(
    bootstrap_servers: str, unique: str, make_settings: Callable[..., Settings]
) -> None:
    """The first call creates every topic with the configured count; the second creates none."""
    settings = make_settings(
        kafka_bootstrap_servers=bootstrap_servers,
        topic_notifications=f"n-{unique}",
        topic_commands=f"c-{unique}",
        topic_dead_letter=f"d-{unique}",
        topic_events_conversations=f"ec-{unique}",
        topic_events_contacts=f"ek-{unique}",
        topic_partitions=3,
    )
    created = await ensure_topics(settings)
    assert sorted(created) == sorted(s.name for s in topic_specs(settings))
    assert await ensure_topics(settings) == []
    assert await partitions_of(bootstrap_servers, f"n-{unique}") == 3


async def test_wrong_partition_count_is_reported(
    bootstrap_servers: str, unique: str, make_settings: Callable[..., Settings]
) -> None:
    """An existing topic with another partition count raises TopicError naming both counts."""
    settings = make_settings(kafka_bootstrap_servers=bootstrap_servers, topic_partitions=2)
    name = f"mismatch-{unique}"
    await ensure_topics(settings, [TopicSpec(name, 2, 1)])
    with pytest.raises(TopicError, match=f"{name} has 2 partitions, expected 5"):
        await ensure_topics(settings, [TopicSpec(name, 5, 1)])
