"""A worker killed, its RocksDB deleted and restarted rebuilds dedup and projections from Kafka.

The worker writes its tables' changelogs itself (stream_app.faust.tables); this shows that
faust's recovery reads those records back into the same tables.
"""

from __future__ import annotations

import shutil
import signal
from collections import Counter
from pathlib import Path

import orjson
import pytest

from intercom_stream import samples
from intercom_stream.settings import Settings
from stream_app.rules import command_id
from tests.stream_app.worker_harness import (
    Record,
    commands_until,
    effect_body,
    get_json,
    publish,
    signed,
    start_worker,
    worker_settings,
)
from tests.support.kafka import collect_until

pytestmark = pytest.mark.integration
CONVERSATIONS, UPDATES = 60, 4


def closed(n: int) -> Record:
    """Return the n-th closed-conversation notification (a projection, a command, an event)."""
    conversation = f"conv-{n % CONVERSATIONS}"
    item = samples.conversation_item(conversation, f"contact-{n % CONVERSATIONS}", 1_000 + n)
    body = samples.notification_bytes(
        topic="conversation.admin.closed", item=item, notification_id=f"old-{n}"
    )
    return signed(body)


def after_each_conversation(tag: str) -> list[Record]:
    """Return one test.effect notification per conversation, behind its others in its partition."""
    return [signed(effect_body(f"{tag}-{c}", f"conv-{c}")) for c in range(CONVERSATIONS)]


async def dedup_marks_until(settings: Settings, ids: set[str]) -> None:
    """Read the dedup changelog until it holds every id (as JSON keys)."""
    await collect_until(
        settings.kafka_bootstrap_servers,
        f"{settings.worker_app_id}-dedup-changelog",
        lambda records: {orjson.loads(r.key) for r in records} >= ids,
        60.0,
        "dedup marks",
    )


async def projections(settings: Settings) -> dict[str, object]:
    """Return every conversation's projection as the worker serves it."""
    found = {}
    for c in range(CONVERSATIONS):
        status, body = await get_json(settings.worker_web_port, f"/conversations/conv-{c}")
        assert status == 200, body
        found[f"conv-{c}"] = body
    return found


async def test_a_worker_without_its_rocksdb_recovers_dedup_and_projections_from_kafka(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """kill -9, delete RocksDB, restart: every old id is still a duplicate, projections intact."""
    old = [closed(n) for n in range(CONVERSATIONS * UPDATES)]
    old_commands = {command_id(f"old-{n}", "conversation-closed") for n in range(len(old))}
    settings = worker_settings(kafka_settings, tmp_path, "w")
    await publish(kafka_settings, old)
    worker = await start_worker(settings, tmp_path, "w")
    try:
        await commands_until(kafka_settings, lambda ids: set(ids) >= old_commands)
        # A mark is written when the next record of its partition finds its outputs acknowledged.
        await publish(kafka_settings, after_each_conversation("settle"))
        await dedup_marks_until(settings, {f"old-{n}" for n in range(len(old))})
        before = await projections(settings)
        worker.kill(signal.SIGKILL)
        shutil.rmtree(settings.worker_datadir)
        await publish(kafka_settings, [*old, *after_each_conversation("after")])
        worker = await start_worker(settings, tmp_path, "w-restarted")
        ids = await commands_until(
            kafka_settings,
            lambda ids: {f"effect-after-{c}" for c in range(CONVERSATIONS)} <= set(ids),
            timeout=120,
        )
        after = await projections(settings)
    finally:
        worker.kill()
    repeated = {i: n for i, n in Counter(ids).items() if i in old_commands and n > 1}
    assert old_commands <= set(ids)
    assert repeated == {}, f"old notifications handled again after recovery: {repeated}"
    assert after == before
    assert {body["version"] for body in after.values()} == {  # type: ignore[index]
        1_000 + n for n in range(len(old) - CONVERSATIONS, len(old))
    }
