"""The dead-letter round trip with a real writer process, the real broker and the fake Intercom."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from intercom_stream.settings import Settings
from intercom_stream.topics import resolution_topic
from tests.fakes.intercom import FakeIntercom
from tests.kafka_helpers import collect_until, consume_all
from tests.ops.cli import cli
from tests.processes import Process
from tests.stream_app.writer.conftest import make_command
from tests.stream_app.writer.test_writer_kafka import publish, until

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
    await publish(settings, [other])
    [row, row2] = await listed(settings, 2)
    assert (row["stage"], row["error_type"]) == ("writer", "NotFoundError")
    assert (row["source_topic"], row["id"]) == (
        settings.topic_commands,
        f"{record.partition}:{record.offset}",
    )
    assert row["reason"]
    assert row["failed_at"].endswith("Z")

    before, calls = await topic_sizes(settings), len(fake.calls)
    plan = await cli(settings, "dlq", "requeue", row["id"])
    assert "nothing done" in plan.out
    assert (await topic_sizes(settings), len(fake.calls)) == (before, calls)

    fake.faults.unknown_users.clear()
    done = await cli(settings, "dlq", "requeue", row["id"], "--execute")
    assert "\x1b" not in done.out
    assert "\r" not in done.out
    assert "requeue: 1/1 (" in done.out.splitlines()[-2]
    await until(
        lambda: _true(fake.accepted()), 30, lambda: f"{fake.calls}\n{writer_process.log_tail()}"
    )
    assert (await cli(settings, "dlq", "list", "--json")).json_lines() == [row2]
    resolved = (await cli(settings, "dlq", "list", "--all", "--json")).json_lines()
    assert [r["resolved"] for r in resolved] == ["requeued", None]

    await cli(settings, "dlq", "requeue", row["id"], "--execute")

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
