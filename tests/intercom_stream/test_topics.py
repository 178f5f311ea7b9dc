"""Integration tests of topic creation against the real broker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from dev.support.topics import delete_topics_containing
from intercom_stream.errors import TopicError
from intercom_stream.settings import Settings
from intercom_stream.topics import TopicSpec, changelog_topics, ensure_topics, topic_specs

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


async def config_of(bootstrap: str, topic: str, name: str) -> str:
    """Return one config value of a topic as the broker reports it."""
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_, _, _, _, entries)] = response.resources
        return str({entry[0]: entry[1] for entry in entries}[name])
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
        topic_crm_contacts=f"crmc-{unique}",
        topic_crm_companies=f"crmo-{unique}",
        worker_app_id=f"app-{unique}",
        topic_partitions=3,
    )
    try:
        created = await ensure_topics(settings)
        assert sorted(created) == sorted(s.name for s in topic_specs(settings))
        assert await ensure_topics(settings) == []
        assert await partitions_of(bootstrap_servers, f"n-{unique}") == 3
        changelog = f"app-{unique}-contacts-changelog"
        assert changelog in created
        assert await partitions_of(bootstrap_servers, changelog) == 3
        assert await config_of(bootstrap_servers, changelog, "cleanup.policy") == "compact"
    finally:
        await delete_topics_containing(bootstrap_servers, unique)


def test_changelog_topics_are_those_of_the_apps_tables(
    make_settings: Callable[..., Settings],
) -> None:
    """`topics create` makes exactly the changelog topics the worker's and writer's tables use."""
    from stream_app.app import create_app, create_writer_app

    settings = make_settings(worker_app_id="names")
    apps = [create_app(settings), create_writer_app(settings)]
    used = {table.changelog_topic_name for app in apps for table in app.tables.values()}
    assert used == set(changelog_topics(settings))


async def test_wrong_partition_count_is_reported(
    bootstrap_servers: str, unique: str, make_settings: Callable[..., Settings]
) -> None:
    """An existing topic with another partition count raises TopicError naming both counts."""
    settings = make_settings(kafka_bootstrap_servers=bootstrap_servers, topic_partitions=2)
    name = f"mismatch-{unique}"
    await ensure_topics(settings, [TopicSpec(name, 2, 1)])
    with pytest.raises(TopicError, match=f"{name} has 2 partitions, expected 5"):
        await ensure_topics(settings, [TopicSpec(name, 5, 1)])
