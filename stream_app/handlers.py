"""The shipped notification handlers: projections, domain events and rule commands."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import ValidationError

from intercom_stream.errors import PoisonMessageError
from schemas import Notification
from schemas.events import ContactEvent, ConversationEvent
from schemas.items import Contact, ContactTag, Conversation
from schemas.projections import ContactState, ConversationState
from stream_app.ids import Uuid5
from stream_app.outputs import (
    ContactTagChange,
    ContactUpdate,
    ConversationUpdate,
    Emit,
    Output,
)
from stream_app.router import Handler, HandlerContext, Router
from stream_app.rules import Rule, RuleSet, apply_rule

log = structlog.get_logger("stream_app.handlers")
EVENT_NAMESPACE = uuid.UUID("1d6f2a8e-7b0c-4c39-8e0b-5f3a9d2c7e44")
EVENT_IDS = Uuid5(EVENT_NAMESPACE)
CONTACT_TOPICS = (
    "contact.user.created",
    "contact.user.updated",
    "contact.lead.created",
    "contact.lead.updated",
    "contact.lead.signed_up",
    "contact.lead.added_email",
    "contact.email.updated",
    "contact.archived",
    "contact.unarchive",
    "contact.subscribed",
    "contact.unsubscribed",
    "contact.deleted",
    "contact.merged",
    "visitor.signed_up",
)


def event_id(notification: Notification, kind: str) -> str:
    """Return the deterministic id of the domain event a notification produces."""
    return EVENT_IDS.text(f"{notification.id}/{kind}")


def event_fields(n: Notification, kind: str, version: int) -> dict[str, Any]:
    """Return the fields every domain event of this notification carries."""
    return {
        "event_id": event_id(n, kind),
        "kind": kind,
        "source_topic": n.topic,
        "notification_id": n.id,
        "app_id": n.app_id,
        "occurred_at": version,
    }


def version_of(updated_at: int | None, notification: Notification) -> int:
    """Return the ordering version: the item's updated_at, else the notification's created_at."""
    return updated_at or notification.created_at


async def conversation_changed(n: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Project the conversation's state and publish a conversation event."""
    item = n.data.item
    if not isinstance(item, Conversation) or not item.id:
        return ()
    contact = item.first_contact()
    version = version_of(item.updated_at, n)
    state = ConversationState(
        id=item.id,
        state="deleted" if ctx.topic == "conversation.deleted" else item.state,
        admin_assignee_id=item.admin_assignee_id,
        team_assignee_id=item.team_assignee_id,
        contact_id=contact.id if contact else None,
        contact_external_id=contact.external_id if contact else None,
        version=version,
        last_topic=ctx.topic,
        last_notification_id=n.id,
    )
    event = ConversationEvent(
        **event_fields(n, ctx.topic, version),
        conversation_id=item.id,
        state=state.state,
        admin_assignee_id=item.admin_assignee_id,
        contact_id=state.contact_id,
    )
    return (ConversationUpdate(state), Emit("conversations", item.id, event))


async def contact_changed(n: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Project the contact's fields and publish a contact event."""
    item = n.data.item
    if not isinstance(item, Contact) or not item.id:
        return ()
    version = version_of(item.updated_at, n)
    state = ContactState(
        id=item.id,
        role=item.role,
        email=item.email,
        external_id=item.external_id,
        name=item.name,
        version=version,
        last_topic=ctx.topic,
    )
    event = ContactEvent(
        **event_fields(n, ctx.topic, version),
        contact_id=item.id,
        role=item.role,
        email=item.email,
        external_id=item.external_id,
    )
    return (ContactUpdate(state), Emit("contacts", item.id, event))


async def contact_tagged(n: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Put the tag on (or take it off) the contact's projection and publish a contact event."""
    item = n.data.item
    if not isinstance(item, ContactTag) or not item.contact.id or not item.tag.name:
        return ()
    present = ctx.topic.endswith(".created")
    # The notification's time orders a tag's changes; a delete may carry the tag's creation time.
    version = n.created_at
    change = ContactTagChange(item.contact.id, item.tag.name, present, version)
    kind = "contact.tag.added" if present else "contact.tag.removed"
    event = ContactEvent(
        **event_fields(n, kind, version),
        contact_id=item.contact.id,
        external_id=item.contact.external_id,
        tag=item.tag.name,
    )
    return (change, Emit("contacts", item.contact.id, event))


async def ping(n: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Log Intercom's ping; it carries no resource."""
    log.info("ping.received", app_id=n.app_id, partition=ctx.partition, offset=ctx.offset)
    return ()


def rule_handler(rule: Rule) -> Handler:
    """Return a handler that applies one rule and logs when it finds no contact."""

    async def apply(n: Notification, ctx: HandlerContext) -> Sequence[Output]:
        try:
            command = apply_rule(rule, n)
        except ValidationError as exc:
            raise PoisonMessageError(f"rule {rule.name} builds an invalid command: {exc}") from exc
        if command is None:
            log.warning("rule.no_contact", rule=rule.name, notification_id=n.id, topic=ctx.topic)
            return ()
        return (command,)

    return apply


def register_handlers(router: Router, rules: RuleSet) -> Router:
    """Register every shipped handler and one handler per rule; return the router."""
    router.on("conversation.*")(conversation_changed)
    router.on(*CONTACT_TOPICS)(contact_changed)
    router.on("contact.*.tag.created", "contact.*.tag.deleted")(contact_tagged)
    router.on("ping")(ping)
    for rule in rules.rules:
        router.on(*rule.topics)(rule_handler(rule))
    return router
