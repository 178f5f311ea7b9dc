"""Every command kind, published to Kafka as another service would, against the fake Intercom."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from schemas.commands import AnyCommand, command_record
from tests.schemas.command_examples import example
from tests.stream_app.writer.recipe_harness import command
from tests.stream_app.writer.test_writer_kafka import dead_letters, until
from tests.support.kafka import produce

pytestmark = pytest.mark.integration


async def publish(settings: Settings, commands: list[AnyCommand]) -> None:
    """Produce the commands keyed by subject, as any service would."""
    records = [command_record(c) for c in commands]
    await produce(settings.kafka_bootstrap_servers, settings.topic_commands, records)


def calls_by_command(fake: FakeIntercom) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Return each command id's calls (method, path, body), in order."""
    found: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for request in fake.resources.requests:
        found[str(request.command_id)].append((request.method, request.path, request.body))
    return found


async def settle(fake: FakeIntercom, worker: Process, count: int) -> None:
    """Wait until the resources have answered `count` requests."""

    async def done() -> bool:
        return len(fake.resources.requests) >= count

    await until(done, 60, lambda: f"{fake.resources.calls()}\n{worker.log_tail()}")


async def duplicates_skipped(worker: Process, count: int) -> None:
    """Wait until the writer has logged `count` redeliveries as duplicates."""

    async def done() -> bool:
        return worker.log_path.read_text(errors="replace").count('"command.duplicate"') >= count

    await until(done, 30, worker.log_tail)


def first_phase(lead: str, user: str) -> list[AnyCommand]:
    """Return the commands that need nothing created by another command."""
    kinds = ["conversation.reply", "conversation.note", "conversation.close"]
    kinds += ["conversation.open", "conversation.snooze", "conversation.assign"]
    kinds += ["article.create", "company.upsert"]
    return [
        *(command(kind) for kind in kinds),
        command("article.update", article_id="1"),
        command("contact.merge", lead_id=lead, user_id=user),
        command("data_event.create"),
    ]


def contact_chain() -> list[AnyCommand]:
    """Return one contact's commands, in the order they must run (one key, one partition)."""
    contact = {"external_id": "u-42", "email": "ada@example.com", "name": "Ada"}
    return [
        command("contact.find_or_create", contact=contact),
        command("contact.update"),
        command("contact.tag"),
        command("contact.untag", contact_id=None, external_id="u-42"),
        command("company.attach_contact"),
    ]


async def test_every_kind_makes_its_calls_once_and_a_refusal_is_dead_lettered(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """Each kind: the documented call(s) and bodies, accepted once; a 404 ends as a dead letter."""
    resources, servers = fake.resources, writer_settings.kafka_bootstrap_servers
    resources.content.add_conversation("515")
    resources.content.create_article({"title": "Old", "author_id": 1})
    lead, user = (
        resources.state.create({"role": "lead"})[1],
        resources.state.create({"external_id": "u-7"})[1],
    )
    resources.requests.clear()
    phase = first_phase(lead["id"], user["id"])
    ghost = command("conversation.reply", "ghost-reply", conversation_id="999")
    await publish(writer_settings, [*phase, ghost, *phase])  # the copies are redeliveries
    invalid = orjson.dumps(example("contact.tag", "no-contact", external_id=None))
    await produce(servers, writer_settings.topic_commands, [(b"external_id:x", invalid, [])])
    await settle(fake, worker, len(phase))  # the data event goes to /events, the ghost here
    chain = contact_chain()
    await publish(writer_settings, chain + chain)
    await settle(fake, worker, len(phase) + len(chain) + 1)  # the tag is two calls
    await duplicates_skipped(worker, len(phase) + len(chain))
    letters = {
        orjson.loads(d.payload)["command_id"]: d for d in await dead_letters(writer_settings, 2)
    }
    assert (letters["no-contact"].stage, letters["no-contact"].payload) == ("validate", invalid)
    assert "exactly one of contact_id, external_id" in letters["no-contact"].error_message
    letter = letters["ghost-reply"]
    assert letter.stage == "writer"
    assert "HTTP 404 (not_found: Resource Not Found) request_id=req-" in letter.error_message
    calls = calls_by_command(fake)
    contact_id = resources.state.by_external_id("u-42")["id"]  # type: ignore[index]
    company = resources.state.company("acme-1")
    assert company is not None
    tag_id = next(iter(resources.state.tags))
    expected = {
        "example-conversation.reply": [
            (
                "POST",
                "/conversations/515/reply",
                {
                    "message_type": "comment",
                    "type": "admin",
                    "admin_id": "991",
                    "body": "<p>Fixed.</p>",
                },
            )
        ],
        "example-conversation.note": [
            (
                "POST",
                "/conversations/515/reply",
                {
                    "message_type": "note",
                    "type": "admin",
                    "admin_id": "991",
                    "body": "<p>Internal</p>",
                },
            )
        ],
        "example-conversation.close": [
            (
                "POST",
                "/conversations/515/parts",
                {"message_type": "close", "type": "admin", "admin_id": "991", "body": "Bye"},
            )
        ],
        "example-conversation.open": [
            ("POST", "/conversations/515/parts", {"message_type": "open", "admin_id": "991"})
        ],
        "example-conversation.snooze": [
            (
                "POST",
                "/conversations/515/parts",
                {"message_type": "snoozed", "admin_id": "991", "snoozed_until": 1_763_800_000},
            )
        ],
        "example-conversation.assign": [
            (
                "POST",
                "/conversations/515/parts",
                {
                    "message_type": "assignment",
                    "type": "team",
                    "admin_id": "991",
                    "assignee_id": "77",
                },
            )
        ],
        "example-article.create": [
            (
                "POST",
                "/articles",
                {
                    "title": "Reset your password",
                    "body": "<p>Steps</p>",
                    "author_id": 991,
                    "state": "draft",
                },
            )
        ],
        "example-article.update": [("PUT", "/articles/1", {"state": "published"})],
        "example-company.upsert": [
            ("POST", "/companies", {"company_id": "acme-1", "name": "Acme", "plan": "pro"})
        ],
        "example-contact.merge": [
            ("POST", "/contacts/merge", {"from": lead["id"], "into": user["id"]})
        ],
        "ghost-reply": [
            (
                "POST",
                "/conversations/999/reply",
                {
                    "message_type": "comment",
                    "type": "admin",
                    "admin_id": "991",
                    "body": "<p>Fixed.</p>",
                },
            )
        ],
        "example-contact.find_or_create": [
            (
                "POST",
                "/contacts",
                {"external_id": "u-42", "email": "ada@example.com", "name": "Ada", "role": "user"},
            )
        ],
        "example-contact.update": [("PUT", f"/contacts/{contact_id}", {"name": "Ada L."})],
        "example-contact.tag": [
            ("POST", "/tags", {"name": "vip"}),
            ("POST", f"/contacts/{contact_id}/tags", {"id": tag_id}),
        ],
        "example-contact.untag": [("DELETE", f"/contacts/{contact_id}/tags/{tag_id}", {})],
        "example-company.attach_contact": [
            ("POST", f"/contacts/{contact_id}/companies", {"id": company["id"]})
        ],
    }
    assert dict(calls) == expected
    assert fake.accepted() == {"example-data_event.create": 1}
    assert resources.content.conversations["515"]["team_assignee_id"] == "77"
    assert resources.state.contacts[contact_id]["company_ids"] == [company["id"]]
