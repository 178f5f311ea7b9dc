"""One valid example of every command kind, as another service would publish it."""

from __future__ import annotations

from typing import Any

COMMON = {"source": "crm-sync", "issued_at_ms": 1_763_700_000_123}

EXAMPLES: dict[str, dict[str, Any]] = {
    "data_event.create": {
        "event": {"event_name": "placed-order", "created_at": 1_763_700_000, "user_id": "u-42"}
    },
    "contact.find_or_create": {
        "contact": {
            "external_id": "u-42",
            "email": "ada@example.com",
            "name": "Ada",
            "custom_attributes": {"plan": "pro"},
        }
    },
    "contact.update": {"external_id": "u-42", "changes": {"name": "Ada L."}},
    "contact.merge": {"lead_id": "5f1a0000000000000000000a", "user_id": "5f1a0000000000000000000b"},
    "contact.tag": {"external_id": "u-42", "tag": "vip"},
    "contact.untag": {"contact_id": "5f1a0000000000000000000b", "tag": "vip"},
    "conversation.reply": {"conversation_id": "515", "admin_id": "991", "body": "<p>Fixed.</p>"},
    "conversation.note": {"conversation_id": "515", "admin_id": "991", "body": "<p>Internal</p>"},
    "conversation.close": {"conversation_id": "515", "admin_id": "991", "body": "Bye"},
    "conversation.open": {"conversation_id": "515", "admin_id": "991"},
    "conversation.snooze": {
        "conversation_id": "515",
        "admin_id": "991",
        "snoozed_until": 1_763_800_000,
    },
    "conversation.assign": {
        "conversation_id": "515",
        "admin_id": "991",
        "assignee_id": "77",
        "assignee_type": "team",
    },
    "article.create": {
        "article": {"title": "Reset your password", "body": "<p>Steps</p>", "author_id": 991}
    },
    "article.update": {"article_id": "42", "changes": {"state": "published"}},
    "company.upsert": {"company": {"company_id": "acme-1", "name": "Acme", "plan": "pro"}},
    "company.attach_contact": {"external_id": "u-42", "company_id": "acme-1"},
}


def example(kind: str, command_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """Return the example of the kind as JSON-ready data, with fields overridden."""
    return {
        "kind": kind,
        "command_id": command_id or f"example-{kind}",
        **COMMON,
        **EXAMPLES[kind],
        **fields,
    }
