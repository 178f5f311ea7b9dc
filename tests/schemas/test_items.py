"""Unit tests of the typed items notifications carry."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.items import (
    AnyItem,
    Company,
    Contact,
    ContactTag,
    Conversation,
    Item,
    Ping,
    Ticket,
)

ITEMS: TypeAdapter[Any] = TypeAdapter(AnyItem)


def test_a_conversation_is_parsed_with_its_contacts_and_assignees() -> None:
    """A conversation item becomes a Conversation with typed fields and its first contact."""
    item = ITEMS.validate_python(
        {
            "type": "conversation",
            "id": "215470312",
            "created_at": 1763700000,
            "updated_at": 1763700500,
            "state": "open",
            "open": True,
            "admin_assignee_id": 991267,
            "team_assignee_id": None,
            "contacts": {
                "type": "contact.list",
                "contacts": [
                    {"type": "contact", "id": "c1", "external_id": "u-1"},
                    {"type": "contact", "id": "c2"},
                ],
            },
            "conversation_parts": {"type": "conversation_part.list", "conversation_parts": []},
        }
    )
    assert isinstance(item, Conversation)
    assert (item.id, item.state, item.open, item.updated_at) == (
        "215470312",
        "open",
        True,
        1763700500,
    )
    assert item.admin_assignee_id == "991267"
    assert item.team_assignee_id is None
    first = item.first_contact()
    assert first is not None
    assert (first.id, first.external_id) == ("c1", "u-1")


@pytest.mark.parametrize("contacts", [None, {"type": "contact.list", "contacts": []}])
def test_a_conversation_without_contacts_has_no_first_contact(contacts: Any) -> None:
    """A conversation whose contact list is missing or empty has no first contact."""
    item = ITEMS.validate_python({"type": "conversation", "id": "1", "contacts": contacts})
    assert isinstance(item, Conversation)
    assert item.first_contact() is None


@pytest.mark.parametrize("kind", ["contact", "user", "lead"])
def test_contacts_users_and_leads_are_contacts(kind: str) -> None:
    """Items typed contact, user (1.x) or lead (1.x) all become a Contact, keeping their type."""
    item = ITEMS.validate_python(
        {"type": kind, "id": "c1", "role": "lead", "email": "a@example.com", "updated_at": 5}
    )
    assert isinstance(item, Contact)
    assert (item.type, item.id, item.role, item.email, item.updated_at) == (
        kind,
        "c1",
        "lead",
        "a@example.com",
        5,
    )


def test_a_contact_tag_carries_its_tag_and_contact() -> None:
    """A contact_tag item has no id of its own but a typed tag and contact reference."""
    item = ITEMS.validate_python(
        {
            "type": "contact_tag",
            "created_at": 1763700100,
            "tag": {"type": "tag", "id": 17, "name": "vip"},
            "contact": {"type": "contact", "id": "c1", "external_id": "u-1"},
        }
    )
    assert isinstance(item, ContactTag)
    assert item.id is None
    assert (item.tag.id, item.tag.name) == ("17", "vip")
    assert (item.contact.id, item.contact.external_id) == ("c1", "u-1")
    assert item.created_at == 1763700100


def test_a_contact_tag_without_its_tag_is_rejected() -> None:
    """A contact_tag must carry the tag and the contact it links."""
    with pytest.raises(ValidationError):
        ITEMS.validate_python({"type": "contact_tag", "contact": {"id": "c1"}})


def test_a_company_is_parsed_with_a_numeric_company_id_as_text() -> None:
    """A company item becomes a Company; a numeric company_id is kept as a string."""
    item = ITEMS.validate_python(
        {"type": "company", "id": "co1", "name": "Acme", "company_id": 42, "updated_at": 9}
    )
    assert isinstance(item, Company)
    assert (item.id, item.name, item.company_id, item.updated_at) == ("co1", "Acme", "42", 9)


def test_a_ticket_keeps_the_nested_ticket_of_newer_api_versions() -> None:
    """A ticket item becomes a Ticket and keeps the `ticket` object API 2.15 nests."""
    item = ITEMS.validate_python(
        {"type": "ticket", "id": "t1", "ticket_state": "submitted", "ticket": {"id": "t1"}}
    )
    assert isinstance(item, Ticket)
    assert (item.id, item.ticket_state, item.ticket) == ("t1", "submitted", {"id": "t1"})


def test_a_ping_has_no_id_and_keeps_its_message() -> None:
    """Intercom's ping item becomes a Ping without an id."""
    item = ITEMS.validate_python(
        {"type": "ping", "message": "This is a ping notification test message."}
    )
    assert isinstance(item, Ping)
    assert item.id is None
    assert item.message == "This is a ping notification test message."


def test_an_unknown_type_is_kept_as_a_plain_item_with_its_fields() -> None:
    """An item of an unknown type becomes an Item that keeps every field it came with."""
    item = ITEMS.validate_python(
        {"type": "article", "id": 77, "title": "Refunds", "state": "published"}
    )
    assert type(item) is Item
    assert (item.type, item.id) == ("article", "77")
    assert item.model_extra == {"title": "Refunds", "state": "published"}


def test_an_item_without_a_type_is_rejected() -> None:
    """Every item must say its type."""
    with pytest.raises(ValidationError):
        ITEMS.validate_python({"id": "1"})


def test_unknown_fields_of_known_types_are_kept() -> None:
    """Fields a known model does not declare are kept, so nothing Intercom sends is lost."""
    item = ITEMS.validate_python(
        {"type": "conversation", "id": "1", "priority": "priority", "custom_attributes": {"a": 1}}
    )
    assert isinstance(item, Conversation)
    assert item.model_extra == {"priority": "priority", "custom_attributes": {"a": 1}}
    assert item.model_dump()["priority"] == "priority"


@pytest.mark.parametrize("kind", ["conversation", "contact", "company", "ticket", "other"])
def test_numeric_ids_become_strings(kind: str) -> None:
    """An id sent as a number is coerced to its decimal string for every item type."""
    item = ITEMS.validate_python({"type": kind, "id": 215470312})
    assert item.id == "215470312"


def test_items_are_frozen() -> None:
    """Parsed items cannot be changed in place."""
    item = ITEMS.validate_python({"type": "contact", "id": "c1"})
    with pytest.raises(ValidationError):
        item.id = "c2"
