"""Shared fixtures: the real Kafka broker, unique topic names and settings for each test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from dev.support.topics import delete_topics_containing
from intercom_stream.settings import Settings, namespaced_topics
from intercom_stream.topics import ensure_topics
from tests.support.broker import BrokerUnavailable, kafka_broker

TEST_SECRET = "test-client-secret"


@pytest.fixture(scope="session")
def bootstrap_servers() -> Iterator[str]:
    """A real Kafka broker for the whole session; failing, never skipping, when none can be had."""
    try:
        with kafka_broker() as address:
            yield address
    except BrokerUnavailable as exc:
        pytest.fail(f"no Kafka broker for the integration tests: {exc}", pytrace=False)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic names, group ids and app ids."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def make_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Settings]:
    """Build settings for a unit test, without a broker."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "intercom_client_secret": TEST_SECRET,
            "worker_datadir": str(tmp_path_factory.mktemp("worker")),
            "writer_datadir": str(tmp_path_factory.mktemp("writer")),
            "worker_store": "memory://",
            "ingress_spool_dir": str(tmp_path_factory.mktemp("spool")),
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
async def kafka_settings(
    bootstrap_servers: str, unique: str, make_settings: Callable[..., Settings]
) -> AsyncIterator[Settings]:
    """Settings pointing at the real broker, with this test's own topics created, then deleted.

    Deleting them afterwards (faust's changelog topics too) keeps a developer's broker from
    collecting thousands of partitions, which slows its restart past the start timeout.
    KEEP_TEST_TOPICS=1 keeps them for a post-mortem.
    """
    settings = make_settings(
        kafka_bootstrap_servers=bootstrap_servers,
        **namespaced_topics(f"t-{unique}"),
        worker_app_id=f"app-{unique}",
        topic_partitions=4,
    )
    await ensure_topics(settings)
    yield settings
    if not os.environ.get("KEEP_TEST_TOPICS"):
        await delete_topics_containing(bootstrap_servers, unique)
