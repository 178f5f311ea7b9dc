"""The replay command on the real broker: plan, execute, interrupt and resume, history."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from dev.support.processes import settings_env
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_audit_topic, replay_topic
from tests.ops.cli import Run, cli
from tests.ops.notifications import Sent, write_notifications
from tests.support.kafka import collect_until, consume_all

pytestmark = pytest.mark.integration
HOUR_MS = 3_600_000
TOPICS = ("conversation.user.created", "conversation.admin.closed", "contact.user.created")


async def history(settings: Settings) -> list[dict[str, object]]:
    """Return `replay history --json`."""
    return (await cli(settings, "replay", "history", "--json")).json_lines()


async def nine_notifications(settings: Settings, base_ms: int) -> list[Sent]:
    """Write three notifications of each topic, one per hour from base_ms."""
    specs = [
        (f"n-{h}-{t}", topic, base_ms + h * HOUR_MS)
        for h in range(3)
        for t, topic in enumerate(TOPICS)
    ]
    return await write_notifications(settings, specs)


async def test_a_time_and_topic_selection_is_planned_then_replayed_exactly(
    kafka_settings: Settings,
) -> None:
    """The plan counts and changes nothing; --execute writes exactly the selection, marked."""
    settings = kafka_settings
    base = int(time.time() * 1000) - 5 * HOUR_MS
    sent = await nine_notifications(settings, base)
    window = ["--since", iso(base + HOUR_MS), "--until", iso(base + 2 * HOUR_MS + 1)]
    args = ["replay", *window, "--topic", "conversation.*"]
    plan = await cli(settings, *args)
    assert "plan: replay 4 of " in plan.out
    assert "nothing done" in plan.out
    bootstrap = settings.kafka_bootstrap_servers
    assert await consume_all(bootstrap, replay_topic(settings), idle=0.2) == []
    assert await consume_all(bootstrap, replay_audit_topic(settings), idle=0.2) == []

    done = await cli(settings, *args, "--execute")
    assert "\x1b" not in done.out
    replayed = await consume_all(bootstrap, replay_topic(settings), idle=0.2)
    expected = {
        s.notification_id: s
        for s in sent
        if s.timestamp_ms >= base + HOUR_MS and s.topic.startswith("conversation.")
    }
    assert sorted(notification_id(r) for r in replayed) == sorted(expected)
    for record in replayed:
        found = dict(record.headers)
        assert record.partition == expected[notification_id(record)].partition
        assert (found["replay"], found["x-replay-count"]) == (b"true", b"1")
        assert found["x-hub-signature"].startswith(b"sha1=")
    [row] = await history(settings)
    assert (row["outcome"], row["selected"], row["sent"], row["force_resend"]) == (
        "finished",
        4,
        4,
        False,
    )


def notification_id(record: Any) -> str:
    """Return the record's notification id header as text."""
    return bytes(dict(record.headers)["intercom-notification-id"]).decode()


def iso(ms: int) -> str:
    """Return the instant as ISO 8601 UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


async def test_ctrl_c_stops_cleanly_and_resume_sends_the_rest_once(
    kafka_settings: Settings,
) -> None:
    """SIGINT prints how to resume; --resume sends what is left; each record once in all."""
    settings = kafka_settings
    specs = [
        (f"r-{i}", "conversation.user.created", int(time.time() * 1000) - 1000 + i)
        for i in range(12)
    ]
    await write_notifications(settings, specs)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intercom_stream", "replay", "--rate", "4", "--execute",
        env=settings_env(settings), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    bootstrap = settings.kafka_bootstrap_servers
    await collect_until(bootstrap, replay_topic(settings), lambda r: len(r) >= 2, timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    first = Run(proc.returncode or 0, out.decode(), err.decode())
    assert first.code == 130, first
    [hint] = [line for line in first.out.splitlines() if "--resume" in line]
    replay_id = hint.split("--resume ")[1].split()[0]
    [row] = await history(settings)
    assert (row["replay_id"], row["outcome"]) == (replay_id, "interrupted")
    assert isinstance(row["sent"], int)
    assert 2 <= row["sent"] < 12
    await cli(settings, "replay", "--resume", replay_id, "--execute")
    replayed = await consume_all(bootstrap, replay_topic(settings), idle=0.2)
    ids = sorted(notification_id(r) for r in replayed)
    assert ids == sorted(n for n, _, _ in specs)
    assert {dict(r.headers)["x-replay-id"] for r in replayed} == {replay_id.encode()}
    [row] = await history(settings)
    assert (row["outcome"], row["sent"], row["resumes"]) == ("finished", 12, 1)


async def test_ids_and_offset_ranges_select_precisely(kafka_settings: Settings) -> None:
    """--id picks notifications by id; --partition with offsets picks [from, to) there."""
    settings = kafka_settings
    sent = await nine_notifications(settings, int(time.time() * 1000) - 5 * HOUR_MS)
    by_id = await cli(settings, "replay", "--id", "n-0-0", "--id", "n-2-2")
    assert "plan: replay 2 of 9 notifications" in by_id.out
    partition = sent[0].partition
    mine = sorted(s.offset for s in sent if s.partition == partition)
    span = [
        "--partition",
        str(partition),
        "--from-offset",
        str(mine[0]),
        "--to-offset",
        str(mine[0] + 1),
    ]
    precise = await cli(settings, "replay", *span)
    assert "plan: replay 1 of 1 notifications" in precise.out


async def test_the_plan_warns_when_retention_cut_the_window(kafka_settings: Settings) -> None:
    """Records deleted before the window's first retained one make the plan say so."""
    settings = kafka_settings
    base = int(time.time() * 1000) - 5 * HOUR_MS
    specs = [(f"cut-{h}", "conversation.user.created", base + h * HOUR_MS) for h in range(3)]
    sent = await write_notifications(settings, specs, key=b"one-partition")
    first = sent[0]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        tp = TopicPartition(settings.topic_notifications, first.partition)
        await admin.delete_records({tp: RecordsToDelete(first.offset + 1)})
    finally:
        await admin.close()
    plan = await cli(settings, "replay", "--since", iso(base - HOUR_MS))
    assert f"plan: replay {len(sent) - 1} of {len(sent) - 1} notifications" in plan.out
    assert f"partition {first.partition}: retention already removed offsets before" in plan.out
