"""Unit tests of the output sink, over fake publishers and dict tables."""

from __future__ import annotations

import pytest

from schemas.commands import CreateDataEvent, DataEvent, parse_command
from schemas.events import ContactEvent, ConversationEvent
from schemas.projections import ContactState, ConversationState, TagMark
from stream_app.outputs import (
    ContactTagChange,
    ContactUpdate,
    ConversationUpdate,
    Emit,
    SendCommand,
)
from tests.stream_app.factories import Destinations


@pytest.fixture
def out() -> Destinations:
    """A sink with fake destinations."""
    return Destinations()


def command(contact_id: str = "c1", name: str = "tagged") -> SendCommand:
    """Return a data-event command for a contact."""
    event = DataEvent(
        event_name=name, created_at=1763700000, id=contact_id, metadata={"tag": "vip"}
    )
    return SendCommand(
        CreateDataEvent(
            command_id=f"cmd-{contact_id}", source="rule:t", issued_at_ms=1, event=event
        )
    )


def conversation(version: int, state: str) -> ConversationUpdate:
    """Return a conversation change at a version."""
    return ConversationUpdate(
        ConversationState(id="cv1", state=state, version=version, last_topic="t")
    )


def contact(version: int, email: str) -> ContactUpdate:
    """Return a contact change at a version."""
    return ContactUpdate(ContactState(id="c1", email=email, version=version))


async def test_a_command_is_json_keyed_by_its_contact_with_id_headers(out: Destinations) -> None:
    """A command goes to the command topic as JSON, keyed `field:value`, with its id and kind."""
    sent = command("c1")
    acks = await out.sink.publish([sent])
    [(key, value, headers)] = out.commands.sent
    assert key == b"id:c1"
    assert parse_command(value) == sent.command
    assert out.commands.values()[0]["event"] == {
        "event_name": "tagged",
        "created_at": 1763700000,
        "id": "c1",
        "metadata": {"tag": "vip"},
    }
    assert headers == [("command-id", b"cmd-c1"), ("command-kind", b"data_event.create")]
    assert acks == out.commands.futures
    assert out.conversation_events.sent == []
    assert out.contact_events.sent == []


async def test_events_go_to_their_stream_keyed_by_resource(out: Destinations) -> None:
    """Conversation and contact events go to their own topics, as JSON keyed by the resource."""
    conversation_event = ConversationEvent(
        event_id="e1",
        kind="conversation.admin.closed",
        source_topic="conversation.admin.closed",
        notification_id="n1",
        app_id="app",
        occurred_at=5,
        conversation_id="cv1",
        state="closed",
    )
    contact_event = ContactEvent(
        event_id="e2",
        kind="contact.tag.added",
        source_topic="contact.user.tag.created",
        notification_id="n2",
        app_id="app",
        occurred_at=6,
        contact_id="c1",
        tag="vip",
    )
    acks = await out.sink.publish(
        [Emit("conversations", "cv1", conversation_event), Emit("contacts", "c1", contact_event)]
    )
    assert out.conversation_events.keys() == [b"cv1"]
    assert out.contact_events.keys() == [b"c1"]
    assert (
        ConversationEvent.model_validate(out.conversation_events.values()[0]) == conversation_event
    )
    assert ContactEvent.model_validate(out.contact_events.values()[0]) == contact_event
    assert out.contact_events.sent[0][2] == []
    assert acks == [*out.conversation_events.futures, *out.contact_events.futures]
    assert out.commands.sent == []


async def test_projection_changes_are_applied_not_published(out: Destinations) -> None:
    """Projection changes are written to the tables and give no acks."""
    acks = await out.sink.publish(
        [
            conversation(10, "open"),
            contact(10, "a@example.com"),
            ContactTagChange("c1", "vip", True, 10),
        ]
    )
    assert acks == []
    assert out.conversations == {"cv1": conversation(10, "open").state.model_dump()}
    assert ContactState.model_validate(out.contacts["c1"]) == ContactState(
        id="c1", email="a@example.com", version=10, tags={"vip": TagMark(present=True, version=10)}
    )
    assert out.commands.sent == []


async def test_an_older_conversation_change_does_not_overwrite(out: Destinations) -> None:
    """A conversation change older than the table's is dropped; a newer one replaces it."""
    await out.sink.publish([conversation(20, "closed"), conversation(10, "open")])
    assert out.conversations["cv1"]["state"] == "closed"
    await out.sink.publish([conversation(30, "open")])
    assert out.conversations["cv1"]["state"] == "open"
    assert out.conversations["cv1"]["version"] == 30


async def test_contact_fields_are_newer_only_and_keep_tags(out: Destinations) -> None:
    """Contact fields apply only when newer, and never drop the tags already stored."""
    out.sink.apply(ContactTagChange("c1", "vip", True, 5))
    out.sink.apply(contact(20, "new@example.com"))
    out.sink.apply(contact(10, "old@example.com"))
    stored = ContactState.model_validate(out.contacts["c1"])
    assert (stored.email, stored.version) == ("new@example.com", 20)
    assert stored.tag_names() == ["vip"]


async def test_tag_changes_out_of_order_leave_the_newest(out: Destinations) -> None:
    """A removal applied before its older add leaves the tag off."""
    out.sink.apply(ContactTagChange("c1", "vip", False, 200))
    out.sink.apply(ContactTagChange("c1", "vip", True, 100))
    stored = ContactState.model_validate(out.contacts["c1"])
    assert stored.tags == {"vip": TagMark(present=False, version=200)}
    assert stored.tag_names() == []


async def test_outputs_are_handled_in_order(out: Destinations) -> None:
    """Mixed outputs are each sent or applied, and acks come back in output order."""
    acks = await out.sink.publish([command("c1"), conversation(1, "open"), command("c2")])
    assert out.commands.keys() == [b"id:c1", b"id:c2"]
    assert acks == out.commands.futures
    assert list(out.conversations) == ["cv1"]
