"""The contact cache on the real broker: webhooks fill it, commands read it, deletes evict."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from tests.stream_app.writer.recipe_harness import command
from tests.stream_app.writer.test_kinds_kafka import publish
from tests.stream_app.writer.test_writer_kafka import until
from tests.support.kafka import produce

pytestmark = pytest.mark.integration


def webhook(topic: str, item: dict[str, Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Return a contact notification record keyed by the contact id."""
    body: dict[str, Any] = {"type": "notification_event", "topic": topic}
    body["id"] = f"n-{topic}-{item['id']}"
    body["data"] = {"type": "notification_event_data", "item": {"type": "contact", **item}}
    return item["id"].encode(), orjson.dumps(body), []


async def cache_entries(port: int) -> int:
    """Return the writer's local contact-cache entries."""
    url = f"http://127.0.0.1:{port}/writer/contact-cache"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return int((await response.json())["local_entries"])


async def entries_become(settings: Settings, worker: Process, count: int) -> None:
    """Wait until the writer's cache holds `count` local entries."""

    async def reached() -> bool:
        return await cache_entries(settings.writer_web_port) == count

    await until(reached, 30, worker.log_tail)


async def test_a_known_contact_is_one_update_until_a_delete_evicts_it(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """Webhook-known: find-or-create is one PUT; after contact.deleted (id only) it creates."""
    state = fake.resources.state
    _, known = state.create({"external_id": "u-1", "name": "Old"})
    topic = writer_settings.topic_notifications
    item = {"id": known["id"], "external_id": "u-1", "updated_at": 100}
    await produce(
        writer_settings.kafka_bootstrap_servers, topic, [webhook("contact.user.created", item)]
    )
    await entries_become(writer_settings, worker, 2)
    await publish(
        writer_settings,
        [command("contact.find_or_create", "c1", contact={"external_id": "u-1", "name": "New"})],
    )

    async def updated() -> bool:
        return state.contacts[known["id"]]["name"] == "New"

    await until(updated, 30, worker.log_tail)
    assert fake.resources.calls() == [("PUT", f"/contacts/{known['id']}")]
    state.delete(known["id"])
    await produce(
        writer_settings.kafka_bootstrap_servers,
        topic,
        [webhook("contact.deleted", {"id": known["id"]})],
    )
    await entries_become(writer_settings, worker, 0)
    await publish(
        writer_settings, [command("contact.find_or_create", "c2", contact={"external_id": "u-1"})]
    )

    async def created() -> bool:
        return state.by_external_id("u-1") is not None

    await until(created, 30, worker.log_tail)
    assert fake.resources.calls()[1:] == [("POST", "/contacts")]
