"""A writer killed during a reply: the restarted writer does not send the reply a second time."""

from __future__ import annotations

import orjson
import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from schemas import DeadLetter
from tests.stream_app.writer.recipe_harness import command
from tests.stream_app.writer.test_kinds_kafka import publish
from tests.stream_app.writer.test_writer_kafka import until
from tests.support.kafka import collect_until

pytestmark = pytest.mark.integration


async def test_a_reply_in_flight_when_the_writer_dies_is_dead_lettered_not_repeated(
    worker: Process, writer_settings: Settings, fake: FakeIntercom, tmp_path: object
) -> None:
    """The intent mark is durable before the call: after a SIGKILL mid-call, no second reply."""
    fake.resources.content.add_conversation("515")
    fake.faults.latency = 3.0

    async def arrived() -> bool:
        return sum(fake.per_window().values()) >= 1

    await publish(writer_settings, [command("conversation.reply")])
    await until(arrived, 60, worker.log_tail)
    worker.kill()
    fake.faults.latency = 0.0
    restarted = Process("writer", writer_settings, worker.log_path.with_name("again.log")).start()
    try:
        await restarted.wait_http(writer_settings.writer_web_port, "/writer/health")
        # The killed writer's partitions move only once its session expires (30 s by default).
        records = await collect_until(
            writer_settings.kafka_bootstrap_servers,
            writer_settings.topic_dead_letter,
            lambda found: len(found) >= 1,
            timeout=120,
            what="the uncertain reply's dead letter",
        )
        [letter] = [DeadLetter.model_validate_json(r.value) for r in records]
    finally:
        restarted.kill()
    assert orjson.loads(letter.payload)["command_id"] == "example-conversation.reply"
    assert "may have reached Intercom before a restart" in letter.error_message
    assert [r.path for r in fake.resources.requests] == ["/conversations/515/reply"]
