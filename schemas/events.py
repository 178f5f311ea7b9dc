"""Normalised domain events on `intercom.events.*`, for other services."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """Fields every domain event carries; `event_id` is deterministic, so consumers can dedup."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    kind: str
    source_topic: str
    notification_id: str | None
    app_id: str | None
    occurred_at: int


class ConversationEvent(DomainEvent):
    """Something happened to a conversation (on `intercom.events.conversations`)."""

    conversation_id: str
    state: str | None = None
    admin_assignee_id: str | None = None
    contact_id: str | None = None


class ContactEvent(DomainEvent):
    """Something happened to a contact (on `intercom.events.contacts`)."""

    contact_id: str
    role: str | None = None
    email: str | None = None
    external_id: str | None = None
    tag: str | None = None
