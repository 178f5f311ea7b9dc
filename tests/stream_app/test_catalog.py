"""Unit tests of the topic catalog."""

from __future__ import annotations

import pytest

from stream_app.catalog import LEGACY_ALIASES, canonical_topic


@pytest.mark.parametrize(
    ("legacy", "canonical"),
    [
        ("contact.created", "contact.lead.created"),
        ("contact.signed_up", "contact.lead.signed_up"),
        ("contact.tag.created", "contact.lead.tag.created"),
        ("contact.tag.deleted", "contact.lead.tag.deleted"),
        ("user.created", "contact.user.created"),
        ("user.deleted", "contact.deleted"),
        ("user.email.updated", "contact.email.updated"),
        ("user.tag.created", "contact.user.tag.created"),
        ("user.tag.deleted", "contact.user.tag.deleted"),
        ("user.unsubscribed", "contact.unsubscribed"),
    ],
)
def test_legacy_names_map_to_their_2x_names(legacy: str, canonical: str) -> None:
    """Each 1.x topic name is translated to the 2.x name of the same notification."""
    assert canonical_topic(legacy) == canonical


@pytest.mark.parametrize(
    "topic",
    [
        "conversation.user.created",
        "conversation.admin.closed",
        "contact.user.created",
        "contact.lead.tag.created",
        "visitor.signed_up",
        "ping",
        "not.a.topic",
        "",
    ],
)
def test_other_names_are_kept(topic: str) -> None:
    """2.x names, names still current in 2.x and unknown names pass through unchanged."""
    assert canonical_topic(topic) == topic


def test_every_alias_targets_a_2x_name_that_is_not_itself_an_alias() -> None:
    """Translating once is enough: no alias points at another alias."""
    assert not set(LEGACY_ALIASES.values()) & set(LEGACY_ALIASES)
    assert all(canonical_topic(canonical_topic(t)) == canonical_topic(t) for t in LEGACY_ALIASES)
