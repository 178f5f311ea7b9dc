"""Sample Intercom notifications, shaped like the real ones, for the CLI, tests and benchmarks."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

SAMPLE_BODY = (
    "<p>Hi there, I was charged twice for my subscription this month and would like one of "
    "the payments refunded. The order numbers are 10023 and 10024, both paid by card.</p>"
)


def conversation_item(conversation_id: str, contact_id: str, updated_at: int) -> dict[str, Any]:
    """Return a conversation item like Intercom's API 2.x payloads."""
    return {
        "type": "conversation",
        "id": conversation_id,
        "created_at": updated_at,
        "updated_at": updated_at,
        "state": "open",
        "open": True,
        "read": False,
        "priority": "not_priority",
        "admin_assignee_id": None,
        "team_assignee_id": None,
        "title": "Refund for double charge",
        "tags": {"type": "tag.list", "tags": []},
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {"type": "contact", "id": contact_id, "external_id": f"user-{contact_id}"}
            ],
        },
        "source": {
            "type": "conversation",
            "id": f"src-{conversation_id}",
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": SAMPLE_BODY,
            "author": {
                "type": "user",
                "id": contact_id,
                "name": "Ada Lovelace",
                "email": "ada@example.com",
            },
            "attachments": [],
            "url": "https://example.com/billing",
        },
        "conversation_parts": {
            "type": "conversation_part.list",
            "conversation_parts": [],
            "total_count": 0,
        },
        "statistics": {"type": "conversation_statistics", "time_to_assignment": None},
        "custom_attributes": {"plan": "pro", "region": "eu"},
    }


def notification(
    topic: str = "conversation.user.created",
    item: dict[str, Any] | None = None,
    notification_id: str | None = None,
    created_at: int | None = None,
) -> dict[str, Any]:
    """Return a notification envelope around the item (a sample conversation by default)."""
    now = created_at if created_at is not None else int(time.time())
    return {
        "type": "notification_event",
        "app_id": "abc123de",
        "id": notification_id or f"notif_{uuid.uuid4()}",
        "topic": topic,
        "created_at": now,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": now,
        "self": None,
        "links": {},
        "data": {
            "type": "notification_event_data",
            "item": item if item is not None else conversation_item("215470312", "6643a1b2", now),
        },
    }


def notification_bytes(**kwargs: Any) -> bytes:
    """Return a sample notification serialised as Intercom sends it."""
    return orjson.dumps(notification(**kwargs))
