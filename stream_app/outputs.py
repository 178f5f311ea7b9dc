"""What handlers return: projection changes, domain events and outbound commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.commands import CreateDataEvent
from schemas.events import DomainEvent
from schemas.projections import ContactState, ConversationState


@dataclass(frozen=True)
class ConversationUpdate:
    """Replace the conversation's projection if this state is newer."""

    state: ConversationState


@dataclass(frozen=True)
class ContactUpdate:
    """Update the contact's fields if this state is newer (its tags are ignored)."""

    state: ContactState


@dataclass(frozen=True)
class ContactTagChange:
    """Put a tag on, or take it off, a contact if this change is newer for that tag."""

    contact_id: str
    tag: str
    present: bool
    version: int


@dataclass(frozen=True)
class Emit:
    """Publish a domain event on one of the `intercom.events.*` topics."""

    stream: Literal["conversations", "contacts"]
    key: str
    event: DomainEvent


@dataclass(frozen=True)
class SendCommand:
    """Publish an outbound command on the command topic, keyed by the contact identifier."""

    command: CreateDataEvent


Output = ConversationUpdate | ContactUpdate | ContactTagChange | Emit | SendCommand
ProjectionChange = ConversationUpdate | ContactUpdate | ContactTagChange
