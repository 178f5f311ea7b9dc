"""Ledger retention in a real writer process: expired entries are tombstoned on their partition."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.support.processes import Process, free_port
from intercom_stream.settings import Settings
from intercom_stream.topics import changelog_topic, writer_app_id
from schemas.commands import command_record
from tests.stream_app.writer.conftest import make_command
from tests.stream_app.writer.test_writer_kafka import until
from tests.support.kafka import collect_until

pytestmark = pytest.mark.integration


async def send_to_partitions(bootstrap: str, records: list[tuple[str, int, Any]]) -> None:
    """Write (topic, partition, (key, value, headers)) records and wait for each.

    Faust's table changelogs carry JSON keys and values, as seeded here.
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, partition, (key, value, headers) in records:
            await producer.send_and_wait(
                topic, key=key, value=value, headers=headers, partition=partition
            )
    finally:
        await producer.stop()


async def test_expired_entries_are_deleted_on_their_own_partition_and_fresh_ones_kept(
    kafka_settings: Settings, fake: FakeIntercom, tmp_path: Path
) -> None:
    """Seeded 31-day-old entries get a tombstone in their changelog partition; fresh ones stay."""
    settings = kafka_settings.model_copy(
        update={
            "intercom_api_url": fake.url,
            "intercom_access_token": DEFAULT_TOKEN,
            "writer_web_port": free_port(),
        }
    )
    changelog = changelog_topic(writer_app_id(settings), "writer-ledger")
    now_ms, ttl_ms = int(time.time() * 1000), settings.writer_ledger_ttl_seconds * 1000
    parts = range(settings.topic_partitions)
    seeds: list[tuple[str, int, tuple[bytes, bytes, list[tuple[str, bytes]]]]] = [
        (changelog, p, (orjson.dumps(f"{name}-{p}"), orjson.dumps([at, p]), []))
        for p in parts
        for name, at in (("expired", now_ms - ttl_ms - 86_400_000), ("kept", now_ms))
    ]
    await send_to_partitions(settings.kafka_bootstrap_servers, seeds)
    process = Process("writer", settings, tmp_path / "writer.log").start()
    try:
        await process.wait_http(settings.writer_web_port, "/writer/health")
        commands = [
            (p, make_command(f"c-{p}", command_id=f"{name}-{p}"))
            for p in parts
            for name in ("new", "kept")
        ]
        await send_to_partitions(
            settings.kafka_bootstrap_servers,
            [(settings.topic_commands, p, command_record(c)) for p, c in commands],
        )

        async def delivered() -> bool:
            return len(fake.accepted()) == len(parts)

        await until(delivered, 60, lambda: f"{fake.accepted()}\n{process.log_tail()}")
        tombstones = await collect_until(
            settings.kafka_bootstrap_servers,
            changelog,
            lambda records: sum(r.value is None for r in records) >= len(parts),
            what="a tombstone per partition",
        )
    finally:
        process.kill()
    deleted = {(r.key, r.partition) for r in tombstones if r.value is None}
    assert deleted == {(orjson.dumps(f"expired-{p}"), p) for p in parts}
    assert set(fake.accepted()) == {f"new-{p}" for p in parts}  # kept-* were duplicates
