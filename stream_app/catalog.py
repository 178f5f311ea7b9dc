"""Intercom's topic names: legacy 1.x aliases mapped to their 2.x names."""

from __future__ import annotations

# API 1.x called leads "contacts" and users "users"; 2.x names both "contact.<role>".
LEGACY_ALIASES: dict[str, str] = {
    "contact.created": "contact.lead.created",
    "contact.signed_up": "contact.lead.signed_up",
    "contact.tag.created": "contact.lead.tag.created",
    "contact.tag.deleted": "contact.lead.tag.deleted",
    "user.created": "contact.user.created",
    "user.deleted": "contact.deleted",
    "user.email.updated": "contact.email.updated",
    "user.tag.created": "contact.user.tag.created",
    "user.tag.deleted": "contact.user.tag.deleted",
    "user.unsubscribed": "contact.unsubscribed",
}


def canonical_topic(topic: str) -> str:
    """Return the 2.x name of a topic (legacy names are translated, others kept)."""
    return LEGACY_ALIASES.get(topic, topic)
