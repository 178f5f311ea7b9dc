"""Typed views of the resources Intercom notifications carry; unknown fields are kept."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Tag


class Item(BaseModel):
    """Any resource: a type and usually an id; every unknown field is kept."""

    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    type: str
    id: str | None = None


class Ref(BaseModel):
    """A reference to another resource, such as a contact inside a conversation."""

    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    type: str | None = None
    id: str | None = None
    external_id: str | None = None
    email: str | None = None


class RefList(BaseModel):
    """Intercom's `{"type": "contact.list", "contacts": [...]}` wrapper."""

    model_config = ConfigDict(extra="allow", frozen=True)

    contacts: list[Ref] = []


class Conversation(Item):
    """A conversation (topics conversation.*)."""

    created_at: int | None = None
    updated_at: int | None = None
    state: str | None = None
    open: bool | None = None
    admin_assignee_id: str | None = None
    team_assignee_id: str | None = None
    contacts: RefList | None = None
    conversation_parts: dict[str, Any] | None = None

    def first_contact(self) -> Ref | None:
        """Return the conversation's first contact, if any."""
        return self.contacts.contacts[0] if self.contacts and self.contacts.contacts else None


class TagRef(BaseModel):
    """A tag."""

    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)

    id: str | None = None
    name: str | None = None


class Contact(Item):
    """A contact: a user or a lead (topics contact.*, visitor.signed_up)."""

    role: str | None = None
    email: str | None = None
    external_id: str | None = None
    name: str | None = None
    created_at: int | None = None
    updated_at: int | None = None


class ContactTag(Item):
    """A tag applied to or removed from a contact (topics contact.*.tag.*)."""

    created_at: int | None = None
    tag: TagRef
    contact: Ref


class Company(Item):
    """A company (topics company.*)."""

    name: str | None = None
    company_id: str | None = None
    updated_at: int | None = None


class Ticket(Item):
    """A ticket (topics ticket.*); from API 2.15 some topics nest it under `ticket`."""

    ticket_state: str | None = None
    updated_at: int | None = None
    ticket: dict[str, Any] | None = None


class Ping(Item):
    """Intercom's ping, sent when a webhook is saved."""

    message: str | None = None


_TAGS = {
    "conversation": "conversation",
    "contact": "contact",
    "user": "contact",
    "lead": "contact",
    "contact_tag": "contact_tag",
    "company": "company",
    "ticket": "ticket",
    "ping": "ping",
}


def _item_tag(value: Any) -> str:
    """Return the union member for an item: its known type, else `other`."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return _TAGS.get(kind, "other") if isinstance(kind, str) else "other"


AnyItem = Annotated[
    Annotated[Conversation, Tag("conversation")]
    | Annotated[Contact, Tag("contact")]
    | Annotated[ContactTag, Tag("contact_tag")]
    | Annotated[Company, Tag("company")]
    | Annotated[Ticket, Tag("ticket")]
    | Annotated[Ping, Tag("ping")]
    | Annotated[Item, Tag("other")],
    Discriminator(_item_tag),
]
