"""Dead-letter round trips through real writer and worker processes and the fake Intercom."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from intercom_stream.topics import resolution_topic
from tests.conftest import TEST_SECRET
from tests.ops.cli import cli
from tests.ops.notifications import write_notifications
from tests.stream_app.writer.conftest import make_command
from tests.stream_app.writer.test_writer_kafka import publish, until
from tests.support.kafka import collect_until, consume_all

pytestmark = pytest.mark.integration


async def duplicates_seen(settings: Settings) -> float:
    """Return the writer's count of commands skipped because the ledger had them."""
    url = f"http://127.0.0.1:{settings.writer_web_port}/writer/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "intercom_writer_commands_total"
        and sample.labels.get("result") == "duplicate"
    )


async def topic_sizes(settings: Settings) -> dict[str, int]:
    """Return how many records the command, dead-letter and resolution topics hold."""
    names = [settings.topic_commands, settings.topic_dead_letter, resolution_topic(settings)]
    bootstrap = settings.kafka_bootstrap_servers
    return {name: len(await consume_all(bootstrap, name, idle=0.2)) for name in names}


async def test_a_404_is_listed_requeued_once_accepted_and_a_second_requeue_sends_nothing(
    writer_process: Process, ops_settings: Settings, fake: FakeIntercom
) -> None:
    """dlq list shows the 404; the plan changes nothing; requeue delivers once, twice still once."""
    settings = ops_settings
    fake.faults.unknown_users.update({"ghost", "phantom"})
    command, other = make_command("ghost"), make_command("phantom")
    await publish(settings, [command])
    [record] = await collect_until(
        settings.kafka_bootstrap_servers, settings.topic_dead_letter, lambda r: len(r) >= 1
    )
    headers = dict(record.headers)
    assert (headers["x-intercom-status"], headers["x-stage"]) == (b"404", b"writer")
    assert headers["kafka_dlt-original-topic"] == settings.topic_commands.encode()
    await publish(settings, [other])
    [row, row2] = await listed(settings, 2)
    assert (row["stage"], row["error_type"]) == ("writer", "NotFoundError")
    assert (row["source_topic"], row["id"]) == (
        settings.topic_commands,
        f"{record.partition}:{record.offset}",
    )
    assert row["reason"]
    assert isinstance(row["failed_at"], str)
    assert row["failed_at"].endswith("Z")

    dead_letter_id = row["id"]
    assert isinstance(dead_letter_id, str)
    before, calls = await topic_sizes(settings), len(fake.calls)
    plan = await cli(settings, "dlq", "requeue", dead_letter_id)
    assert "nothing done" in plan.out
    assert (await topic_sizes(settings), len(fake.calls)) == (before, calls)

    fake.faults.unknown_users.clear()
    done = await cli(settings, "dlq", "requeue", dead_letter_id, "--execute")
    assert "\x1b" not in done.out
    assert "\r" not in done.out
    assert "requeue: 1/1 (" in done.out.splitlines()[-2]
    await until(
        lambda: _true(fake.accepted()), 30, lambda: f"{fake.calls}\n{writer_process.log_tail()}"
    )
    assert (await cli(settings, "dlq", "list", "--json")).json_lines() == [row2]
    resolved = (await cli(settings, "dlq", "list", "--all", "--json")).json_lines()
    assert [r["resolved"] for r in resolved] == ["requeued", None]

    await cli(settings, "dlq", "requeue", dead_letter_id, "--execute")

    async def skipped() -> bool:
        return await duplicates_seen(settings) >= 1

    await until(skipped, 30, lambda: f"no duplicate counted\n{writer_process.log_tail()}")
    assert fake.accepted() == {command.command_id: 1}


async def _true(value: object) -> bool:
    """Return the truth of the value (for `until`)."""
    return bool(value)


async def listed(settings: Settings, count: int) -> list[dict[str, object]]:
    """Return `dlq list --json` once it shows `count` dead letters (bounded)."""
    rows: list[dict[str, object]] = []

    async def enough() -> bool:
        rows[:] = (await cli(settings, "dlq", "list", "--json")).json_lines()
        return len(rows) >= count

    await until(enough, 30, lambda: f"dlq list shows {rows}")
    return rows


async def test_show_and_discard(
    writer_process: Process, ops_settings: Settings, fake: FakeIntercom
) -> None:
    """show prints the payload, error and headers; discard plans, then hides the letter."""
    settings = ops_settings
    fake.faults.unknown_users.add("nobody")
    command = make_command("nobody")
    await publish(settings, [command])
    [row] = await listed(settings, 1)
    shown = (await cli(settings, "dlq", "show", str(row["id"]))).out
    assert command.command_id in shown
    assert "NotFoundError" in shown
    assert "command-id" in shown
    assert f"{settings.topic_commands}:" in shown
    plan = await cli(settings, "dlq", "discard", str(row["id"]))
    assert "nothing done" in plan.out
    assert len(await listed(settings, 1)) == 1
    await cli(settings, "dlq", "discard", str(row["id"]), "--execute")
    assert (await cli(settings, "dlq", "list", "--json")).json_lines() == []
    assert (await cli(settings, "dlq", "show", "0:999", expect=2)).code == 2
    assert len(fake.accepted()) == 0


async def test_a_requeued_notification_is_handled_once_even_when_requeued_twice(
    ops_settings: Settings, tmp_path: Path
) -> None:
    """A secret rotation dead-letters at verify; with both secrets, requeue handles it once."""
    rotated = ops_settings.model_copy(update={"intercom_client_secret": "new-secret"})
    worker = Process("worker", rotated, tmp_path / "worker1.log").start()
    try:
        await worker.wait_http(rotated.worker_web_port, "/metrics")
        [sent] = await write_notifications(
            rotated, [("n-rot", "conversation.user.created", int(time.time() * 1000))]
        )
        [row] = await listed(rotated, 1)
        assert (row["stage"], row["source_topic"]) == ("verify", rotated.topic_notifications)
    finally:
        worker.kill()
    both = rotated.model_copy(update={"intercom_client_secret": f"new-secret,{TEST_SECRET}"})
    worker = Process("worker", both, tmp_path / "worker2.log").start()
    try:
        await worker.wait_http(both.worker_web_port, "/metrics")
        metrics = f"http://127.0.0.1:{both.worker_web_port}/metrics"
        await cli(both, "dlq", "requeue", str(row["id"]), "--execute")
        await wait_for_metric(metrics, "intercom_stream_notifications_handled_total", 1, worker)
        await cli(both, "dlq", "requeue", str(row["id"]), "--execute")
        await wait_for_metric(metrics, "intercom_stream_notifications_duplicate_total", 1, worker)
        assert await metric_sum(metrics, "intercom_stream_notifications_handled_total") == 1
    finally:
        worker.kill()
    assert sent.notification_id == "n-rot"


async def metric_sum(url: str, name: str) -> float:
    """Return the sum of a metric's samples on a /metrics page."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    families = text_string_to_metric_families(text)
    return sum(s.value for f in families for s in f.samples if s.name == name)


async def wait_for_metric(url: str, name: str, value: float, process: Process) -> None:
    """Wait (bounded) until the metric's sum reaches the value."""

    async def reached() -> bool:
        return await metric_sum(url, name) >= value

    await until(reached, 60, lambda: f"{name} below {value}\n{process.log_tail()}")
