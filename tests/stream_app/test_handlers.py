"""Unit tests of the shipped handlers, routed as the worker routes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from intercom_stream.errors import PoisonMessageError
from schemas import Notification
from schemas.events import ContactEvent, ConversationEvent
from schemas.projections import ContactState, ConversationState
from stream_app import handlers
from stream_app.catalog import canonical_topic
from stream_app.handlers import (
    EVENT_NAMESPACE,
    contact_changed,
    contact_tagged,
    conversation_changed,
    event_id,
    ping,
    register_handlers,
)
from stream_app.outputs import (
    ContactTagChange,
    ContactUpdate,
    ConversationUpdate,
    Emit,
    Output,
    SendCommand,
)
from stream_app.router import Router
from stream_app.rules import command_id, load_rules
from tests.stream_app import factories
from tests.stream_app.factories import (
    CONTACT_ID,
    CONVERSATION_ID,
    CREATED_AT,
    UPDATED_AT,
    RecordingLog,
)

PING_ITEM = {"type": "ping", "message": "This is a ping notification test message."}


def item_for(topic: str) -> dict[str, Any]:
    """Return an item of the kind Intercom sends on that topic."""
    if topic == "ping":
        return PING_ITEM
    if ".tag." in topic:
        return factories.contact_tag_item()
    if topic.startswith("conversation."):
        return factories.conversation_item()
    kind = "user" if topic == "contact.signed_up" else "contact"
    return factories.contact_item(role="lead" if "lead" in topic else "user", type=kind)


async def route(n: Notification) -> tuple[list[Any], list[Output]]:
    """Return the handlers the worker routes the notification to and everything they return."""
    topic = canonical_topic(n.topic)
    found = register_handlers(Router(), load_rules()).lookup(topic)
    outputs = [out for handler in found for out in await handler(n, factories.context(topic))]
    return found, outputs


def of_type(outputs: Sequence[Output], kind: Any) -> list[Any]:
    """Return the outputs of one type."""
    return [out for out in outputs if isinstance(out, kind)]


@pytest.mark.parametrize(
    ("topic", "shipped", "rules"),
    [
        ("conversation.user.created", conversation_changed, ["conversation-started"]),
        ("conversation.user.replied", conversation_changed, []),
        ("conversation.admin.replied", conversation_changed, []),
        ("conversation.admin.closed", conversation_changed, ["conversation-closed"]),
        ("conversation.admin.opened", conversation_changed, []),
        ("conversation.admin.snoozed", conversation_changed, []),
        ("conversation.admin.assigned", conversation_changed, []),
        ("contact.created", contact_changed, []),
        ("contact.signed_up", contact_changed, ["lead-signed-up"]),
        ("contact.tag.created", contact_tagged, ["contact-tagged"]),
        ("contact.tag.deleted", contact_tagged, []),
        ("visitor.signed_up", contact_changed, ["lead-signed-up"]),
        ("contact.user.created", contact_changed, []),
        ("contact.lead.created", contact_changed, []),
        ("contact.lead.signed_up", contact_changed, ["lead-signed-up"]),
        ("contact.user.tag.created", contact_tagged, ["contact-tagged"]),
        ("contact.user.tag.deleted", contact_tagged, []),
        ("ping", ping, []),
    ],
)
async def test_every_topic_routes_to_its_shipped_handler_and_rules(
    topic: str, shipped: Any, rules: list[str]
) -> None:
    """Each topic (legacy names included) reaches its shipped handler first, then its rules."""
    n = factories.notification(topic, item_for(topic))
    found, outputs = await route(n)
    assert found[0] is shipped
    assert len(found) == 1 + len(rules)
    assert [out.command.source for out in of_type(outputs, SendCommand)] == [
        f"rule:{name}" for name in rules
    ]
    expected_projection = 0 if shipped is ping else 1
    changes = of_type(outputs, ConversationUpdate | ContactUpdate | ContactTagChange)
    assert len(changes) == expected_projection
    assert len(of_type(outputs, Emit)) == expected_projection


@pytest.mark.parametrize("topic", ["conversation.user.replied", "conversation.admin.assigned"])
async def test_a_conversation_is_projected_at_its_updated_at(topic: str) -> None:
    """The conversation state carries the item's fields and its updated_at as version."""
    item = factories.conversation_item(state="open", admin_assignee_id=991267, team_assignee_id=5)
    n = factories.notification(topic, item)
    _, outputs = await route(n)
    [update] = of_type(outputs, ConversationUpdate)
    assert update.state == ConversationState(
        id=CONVERSATION_ID,
        state="open",
        admin_assignee_id="991267",
        team_assignee_id="5",
        contact_id=CONTACT_ID,
        contact_external_id=f"user-{CONTACT_ID}",
        version=UPDATED_AT,
        last_topic=topic,
        last_notification_id=factories.NOTIFICATION_ID,
    )


async def test_without_updated_at_the_version_is_the_notification_time() -> None:
    """A conversation without updated_at is versioned by the notification's created_at."""
    n = factories.notification(
        "conversation.admin.snoozed", factories.conversation_item(updated_at=None)
    )
    _, outputs = await route(n)
    [update] = of_type(outputs, ConversationUpdate)
    [emit] = of_type(outputs, Emit)
    assert update.state.version == CREATED_AT
    assert emit.event.occurred_at == CREATED_AT


async def test_a_conversation_event_is_published_with_a_deterministic_id() -> None:
    """The conversation event is keyed by conversation; its id derives from the notification."""
    n = factories.notification(
        "conversation.admin.closed", factories.conversation_item(state="closed")
    )
    _, outputs = await route(n)
    [emit] = of_type(outputs, Emit)
    expected_id = str(
        uuid.uuid5(EVENT_NAMESPACE, f"{factories.NOTIFICATION_ID}/conversation.admin.closed")
    )
    assert (emit.stream, emit.key) == ("conversations", CONVERSATION_ID)
    assert emit.event == ConversationEvent(
        event_id=expected_id,
        kind="conversation.admin.closed",
        source_topic="conversation.admin.closed",
        notification_id=factories.NOTIFICATION_ID,
        app_id="abc123de",
        occurred_at=UPDATED_AT,
        conversation_id=CONVERSATION_ID,
        state="closed",
        admin_assignee_id=None,
        contact_id=CONTACT_ID,
    )
    _, again = await route(
        factories.notification(
            "conversation.admin.closed", factories.conversation_item(state="closed")
        )
    )
    assert of_type(again, Emit)[0].event.event_id == expected_id


def test_event_ids_differ_by_notification_and_kind() -> None:
    """Another notification or another kind gives another event id."""
    first = factories.notification("conversation.admin.closed")
    other = factories.notification("conversation.admin.closed", notification_id="notif_0002")
    ids = {
        event_id(first, "conversation.admin.closed"),
        event_id(other, "conversation.admin.closed"),
        event_id(first, "conversation.admin.opened"),
    }
    assert len(ids) == 3


async def test_a_deleted_conversation_is_projected_as_deleted() -> None:
    """conversation.deleted sets the state to `deleted` whatever the item says."""
    n = factories.notification(
        "conversation.deleted", {"type": "conversation", "id": CONVERSATION_ID}
    )
    _, outputs = await route(n)
    [update] = of_type(outputs, ConversationUpdate)
    assert update.state.state == "deleted"
    assert update.state.contact_id is None


async def test_a_conversation_topic_without_a_conversation_id_gives_nothing() -> None:
    """A conversation handler given an item without an id returns no outputs."""
    n = factories.notification("conversation.user.replied", {"type": "conversation"})
    assert await conversation_changed(n, factories.context("conversation.user.replied")) == ()


async def test_a_contact_is_projected_and_published() -> None:
    """A contact notification gives the contact's fields at its updated_at and a contact event."""
    n = factories.notification("contact.user.created", factories.contact_item())
    _, outputs = await route(n)
    [update] = of_type(outputs, ContactUpdate)
    [emit] = of_type(outputs, Emit)
    assert update.state == ContactState(
        id=CONTACT_ID,
        role="user",
        email="ada@example.com",
        external_id=f"user-{CONTACT_ID}",
        name="Ada Lovelace",
        version=UPDATED_AT,
        last_topic="contact.user.created",
    )
    assert (emit.stream, emit.key) == ("contacts", CONTACT_ID)
    assert emit.event == ContactEvent(
        event_id=event_id(n, "contact.user.created"),
        kind="contact.user.created",
        source_topic="contact.user.created",
        notification_id=factories.NOTIFICATION_ID,
        app_id="abc123de",
        occurred_at=UPDATED_AT,
        contact_id=CONTACT_ID,
        role="user",
        email="ada@example.com",
        external_id=f"user-{CONTACT_ID}",
    )


async def test_a_legacy_topic_is_published_under_its_2x_kind() -> None:
    """A 1.x notification keeps its own name as source_topic but is handled as the 2.x topic."""
    n = factories.notification("contact.created", factories.contact_item(role="lead"))
    _, outputs = await route(n)
    [update] = of_type(outputs, ContactUpdate)
    [emit] = of_type(outputs, Emit)
    assert update.state.last_topic == "contact.lead.created"
    assert (emit.event.kind, emit.event.source_topic) == ("contact.lead.created", "contact.created")


@pytest.mark.parametrize(
    ("topic", "present", "kind"),
    [
        ("contact.user.tag.created", True, "contact.tag.added"),
        ("contact.user.tag.deleted", False, "contact.tag.removed"),
        ("contact.tag.created", True, "contact.tag.added"),
        ("contact.tag.deleted", False, "contact.tag.removed"),
    ],
)
async def test_tag_notifications_change_the_tag(topic: str, present: bool, kind: str) -> None:
    """A tag notification puts the tag on or takes it off, versioned by the notification's time."""
    n = factories.notification(
        topic, factories.contact_tag_item(tag="vip", created_at=1_763_700_321)
    )
    _, outputs = await route(n)
    [change] = of_type(outputs, ContactTagChange)
    [emit] = of_type(outputs, Emit)
    assert change == ContactTagChange(CONTACT_ID, "vip", present, CREATED_AT)
    assert (emit.stream, emit.key) == ("contacts", CONTACT_ID)
    assert emit.event == ContactEvent(
        event_id=event_id(n, kind),
        kind=kind,
        source_topic=topic,
        notification_id=factories.NOTIFICATION_ID,
        app_id="abc123de",
        occurred_at=CREATED_AT,
        contact_id=CONTACT_ID,
        external_id=f"user-{CONTACT_ID}",
        tag="vip",
    )


async def test_a_tag_without_created_at_is_versioned_by_the_notification() -> None:
    """A tag change without the tag's created_at is versioned by the notification's too."""
    n = factories.notification(
        "contact.user.tag.deleted", factories.contact_tag_item(created_at=None)
    )
    _, outputs = await route(n)
    [change] = of_type(outputs, ContactTagChange)
    assert change.version == CREATED_AT


async def test_a_closed_conversation_sends_closed_conversation_to_its_first_contact() -> None:
    """conversation.admin.closed sends `closed-conversation` with the conversation and admin ids."""
    item = factories.conversation_item(
        state="closed",
        admin_assignee_id="991267",
        conversation_parts={
            "type": "conversation_part.list",
            "conversation_parts": [
                {"part_type": "close", "author": {"type": "admin", "id": "814860"}}
            ],
        },
    )
    _, outputs = await route(factories.notification("conversation.admin.closed", item))
    [out] = of_type(outputs, SendCommand)
    command = out.command
    assert command.command_id == command_id(factories.NOTIFICATION_ID, "conversation-closed")
    assert command.contact_key() == f"id:{CONTACT_ID}"
    assert command.event.event_name == "closed-conversation"
    assert command.event.created_at == CREATED_AT
    assert command.event.metadata == {"conversation_id": CONVERSATION_ID, "admin_id": "814860"}


async def test_a_user_tag_sends_tagged_with_the_tag() -> None:
    """contact.user.tag.created sends `tagged` with {tag} to the tagged contact."""
    n = factories.notification("contact.user.tag.created", factories.contact_tag_item(tag="vip"))
    _, outputs = await route(n)
    [out] = of_type(outputs, SendCommand)
    assert out.command.event.event_name == "tagged"
    assert out.command.event.identifier() == ("id", CONTACT_ID)
    assert out.command.event.metadata == {"tag": "vip"}


async def test_a_rule_without_a_contact_logs_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rule that finds no contact returns nothing and says so in a warning."""
    log = RecordingLog()
    monkeypatch.setattr(handlers, "log", log)
    item = factories.conversation_item(contacts={"type": "contact.list", "contacts": []})
    _, outputs = await route(factories.notification("conversation.admin.closed", item))
    assert of_type(outputs, SendCommand) == []
    assert log.records == [
        (
            "warning",
            "rule.no_contact",
            {
                "rule": "conversation-closed",
                "notification_id": factories.NOTIFICATION_ID,
                "topic": "conversation.admin.closed",
            },
        )
    ]


async def test_a_rule_building_an_invalid_command_is_a_poison_message() -> None:
    """A rule whose command Intercom cannot take raises PoisonMessageError (no retries)."""
    [rule] = [r for r in load_rules().rules if r.name == "contact-tagged"]
    handler = handlers.rule_handler(rule.model_copy(update={"event_name": " "}))
    n = factories.notification("contact.user.tag.created", factories.contact_tag_item())
    with pytest.raises(PoisonMessageError, match="contact-tagged"):
        await handler(n, factories.context("contact.user.tag.created"))


async def test_a_ping_produces_nothing() -> None:
    """Intercom's ping is logged and has no outputs."""
    n = factories.notification("ping", PING_ITEM, notification_id=None)
    found, outputs = await route(n)
    assert found == [ping]
    assert outputs == []
