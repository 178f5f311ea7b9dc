"""Creates the project's topics idempotently and reports any with the wrong partition count."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from intercom_stream.errors import TopicError
from intercom_stream.settings import Settings

DAY_MS = 24 * 3600 * 1000
UNKNOWN_TOPIC = 3
TOPIC_ALREADY_EXISTS = 36

# How long a topic that exists may stay missing from the metadata before ensure_topics fails.
METADATA_WAIT_SECONDS = 15.0

# The changelog-backed tables of each faust app; faust names their topics
# `<app id>-<table>-changelog` and writes each entry to the source record's partition.
WORKER_TABLES = ("dedup", "conversations", "contacts")
WRITER_TABLES = ("writer-ledger", "contact-cache", "writer-progress", "crm-synced")


@dataclass(frozen=True)
class TopicSpec:
    """A topic the system needs, with its partition count and configs."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


def writer_app_id(settings: Settings) -> str:
    """Return the faust app id of the writer (its consumer group and topic prefix)."""
    return f"{settings.worker_app_id}-writer"


def contact_cache_updates_topic(settings: Settings) -> str:
    """Return the writer's topic of contact-cache changes, keyed like the commands."""
    return f"{writer_app_id(settings)}-contact-cache-updates"


def changelog_topic(app_id: str, table: str) -> str:
    """Return the name faust gives a table's changelog topic."""
    return f"{app_id}-{table}-changelog"


def changelog_topics(settings: Settings) -> list[str]:
    """Return the changelog topics of the worker's and the writer's tables."""
    worker = [changelog_topic(settings.worker_app_id, t) for t in WORKER_TABLES]
    return worker + [changelog_topic(writer_app_id(settings), t) for t in WRITER_TABLES]


def changelog_specs(settings: Settings) -> list[TopicSpec]:
    """Return the changelog topics as faust declares them: compacted, one partition per source's.

    Creating them with the other topics means a first start has nothing to race: faust would
    otherwise create them as it starts, and a table write that comes before they show in the
    consumer's metadata fails with PartitionsMismatch.
    """
    configs = {
        "cleanup.policy": "compact",
        "min.insync.replicas": str(min(2, settings.topic_replication_factor)),
    }
    return [
        TopicSpec(name, settings.topic_partitions, settings.topic_replication_factor, configs)
        for name in changelog_topics(settings)
    ]


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Return every topic of the system, changelogs included, with its configs."""
    return data_topic_specs(settings) + changelog_specs(settings) + ops_topic_specs(settings)


def resolution_topic(settings: Settings) -> str:
    """Return the compacted topic marking dead letters requeued or discarded (key: their id)."""
    return f"{settings.topic_dead_letter}.resolutions"


def replay_topic(settings: Settings) -> str:
    """Return the topic replayed notifications go to: the worker's low-priority replay lane."""
    return f"{settings.topic_notifications}.replay"


def replay_commands_topic(settings: Settings) -> str:
    """Return the topic the replay lane's commands go to: the writer's low-priority lane."""
    return f"{settings.topic_commands}.replay"


def replay_audit_topic(settings: Settings) -> str:
    """Return the topic of replay audit records (who, when, what, counts, outcome)."""
    return f"{settings.topic_notifications}.replay-audit"


def ops_topic_specs(settings: Settings) -> list[TopicSpec]:
    """Return the operations topics: dead-letter resolutions, the replay lanes and the audit."""
    rf, isr = settings.topic_replication_factor, str(min(2, settings.topic_replication_factor))
    kept = {"min.insync.replicas": isr, "retention.ms": str(365 * DAY_MS)}
    replay = {"min.insync.replicas": isr, "retention.ms": str(7 * DAY_MS)}
    replay["max.message.bytes"] = str(settings.ingress_max_body_bytes + 64 * 1024)
    commands = {**replay, "max.message.bytes": str(1024 * 1024)}  # as the command topic
    return [
        TopicSpec(resolution_topic(settings), 1, rf, {**kept, "cleanup.policy": "compact"}),
        TopicSpec(replay_topic(settings), settings.topic_partitions, rf, replay),
        TopicSpec(replay_commands_topic(settings), settings.topic_partitions, rf, commands),
        TopicSpec(replay_audit_topic(settings), 1, rf, kept),
    ]


def data_topic_specs(settings: Settings) -> list[TopicSpec]:
    """Return the topics other services read and write, with retention and durability configs."""
    isr = str(min(2, settings.topic_replication_factor))

    def spec(name: str, retention_days: int, max_bytes: int = 1024 * 1024) -> TopicSpec:
        configs = {
            "retention.ms": str(retention_days * DAY_MS),
            "min.insync.replicas": isr,
            "max.message.bytes": str(max_bytes),
        }
        return TopicSpec(
            name, settings.topic_partitions, settings.topic_replication_factor, configs
        )

    # A notification may be ingress_max_body_bytes plus headers; a dead letter base64-encodes it.
    body = settings.ingress_max_body_bytes
    return [
        spec(settings.topic_notifications, 7, body + 64 * 1024),
        spec(settings.topic_commands, 7),
        spec(settings.topic_dead_letter, 30, body * 2 + 256 * 1024),
        spec(settings.topic_events_conversations, 7),
        spec(settings.topic_events_contacts, 7),
        spec(settings.topic_crm_contacts, 7),
        spec(settings.topic_crm_companies, 7),
        spec(contact_cache_updates_topic(settings), 1),
    ]


async def describe_partitions(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Return the partition count of each named topic that exists."""
    described: list[dict[str, Any]] = await admin.describe_topics(names)
    return {
        topic["topic"]: len(topic["partitions"])
        for topic in described
        if topic["error_code"] != UNKNOWN_TOPIC
    }


async def described_once_visible(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Describe topics known to exist, waiting (bounded) until the metadata shows them all.

    A topic just created, or created concurrently by someone else, can be missing from the
    metadata for a moment; checking it then would let a partition mismatch pass unnoticed.
    """
    try:
        async with asyncio.timeout(METADATA_WAIT_SECONDS):
            while True:
                described = await describe_partitions(admin, names)
                if all(described.get(name, 0) > 0 for name in names):
                    return described
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise TopicError(
            f"topics {names} not visible in the metadata after {METADATA_WAIT_SECONDS}s"
        ) from None


async def create_missing(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> list[str]:
    """Create the given topics, tolerating a concurrent creator, and return those created."""
    if not specs:
        return []
    new = [
        NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs) for s in specs
    ]
    response = await admin.create_topics(new)
    created = []
    for name, code, *message in response.topic_errors:
        if code not in (0, TOPIC_ALREADY_EXISTS):
            raise TopicError(f"creating topic {name!r} failed with error {code}: {message}")
        if code == 0:
            created.append(name)
    return created


def check_partitions(specs: list[TopicSpec], existing: dict[str, int]) -> None:
    """Raise TopicError naming every existing topic whose partition count differs."""
    wrong = [
        f"{s.name} has {existing[s.name]} partitions, expected {s.partitions}"
        for s in specs
        if s.name in existing and existing[s.name] != s.partitions
    ]
    if wrong:
        raise TopicError(
            "; ".join(wrong)
            + " (faust needs equal counts; recreate the topic or set TOPIC_PARTITIONS)"
        )


async def ensure_topics(settings: Settings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create every missing topic, check the existing ones, and return the names created."""
    specs = specs if specs is not None else topic_specs(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        existing = await describe_partitions(admin, [s.name for s in specs])
        check_partitions(specs, existing)
        created = await create_missing(admin, [s for s in specs if s.name not in existing])
        check_partitions(specs, await described_once_visible(admin, [s.name for s in specs]))
        return created
    finally:
        await admin.close()
