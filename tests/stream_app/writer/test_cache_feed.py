"""Contact webhooks become contact-cache changes; deletes, archives and merges evict."""

from __future__ import annotations

from typing import Any

import orjson

from stream_app.writer.cache import ContactCache, Memo
from stream_app.writer.cache_feed import Change, apply, changes_of


def webhook(topic: str, **item: Any) -> bytes:
    """Return the raw body of a contact webhook."""
    body = {"type": "notification_event", "topic": topic, "id": "notif_1", "created_at": 1}
    body["data"] = {"type": "notification_event_data", "item": {"type": "contact", **item}}
    return orjson.dumps(body)


def feed(table: dict[str, Any], raw: bytes) -> None:
    """Apply a webhook's changes and the changes they forward, as the two agents do."""
    pending = changes_of(raw)
    while pending:
        pending = [forwarded for change in pending for forwarded in apply(table, change)]


def test_a_created_user_is_cached_both_ways() -> None:
    """The external id maps to the contact, and the contact id links back."""
    table: dict[str, Any] = {}
    feed(table, webhook("contact.user.created", id="c1", external_id="u1", updated_at=5))
    assert table == {
        "external_id:u1": {"id": "c1", "version": 5},
        "id:c1": {"external_id": "u1", "version": 5},
    }
    assert ContactCache(table).get("u1") == "c1"


def test_an_older_update_does_not_overwrite_a_newer_one() -> None:
    """Versions are the item's updated_at; a late, older webhook changes nothing."""
    table: dict[str, Any] = {}
    feed(table, webhook("contact.user.updated", id="c2", external_id="u1", updated_at=9))
    feed(table, webhook("contact.user.updated", id="c1", external_id="u1", updated_at=5))
    assert table["external_id:u1"]["id"] == "c2"


def test_deleted_and_archived_evict_even_without_an_external_id() -> None:
    """A minimal deleted payload (id only) evicts through the reverse link."""
    for topic in ("contact.deleted", "contact.archived", "contact.archive"):
        table: dict[str, Any] = {}
        feed(table, webhook("contact.user.created", id="c1", external_id="u1", updated_at=5))
        feed(table, webhook(topic, id="c1"))
        assert table == {}, topic


def test_merge_evicts_the_absorbed_contact_and_keeps_the_survivor() -> None:
    """merged_from names the absorbed contact: its entry goes, the survivor's is refreshed."""
    table: dict[str, Any] = {}
    feed(table, webhook("contact.lead.created", id="lead1", external_id="l1", updated_at=1))
    merged = {"type": "contact", "id": "lead1"}
    feed(
        table,
        webhook("contact.merged", id="c9", external_id="u9", updated_at=7, merged_from=merged),
    )
    assert "external_id:l1" not in table
    assert "id:lead1" not in table
    assert table["external_id:u9"] == {"id": "c9", "version": 7}


def test_an_eviction_of_a_contact_since_replaced_keeps_the_new_entry() -> None:
    """A stale delete of the old contact does not evict the external id's new contact."""
    table = {"external_id:u1": {"id": "new", "version": 9}}
    assert apply(table, Change("external_id:u1", "evict", "old", "u1")) == []
    assert table == {"external_id:u1": {"id": "new", "version": 9}}


def test_other_topics_and_bodies_change_nothing() -> None:
    """Conversations, malformed JSON and contacts without an id are ignored."""
    assert changes_of(b"{not json") == []
    assert changes_of(webhook("conversation.user.created", id="1")) == []
    assert changes_of(webhook("contact.user.created", external_id="u1")) == []


def test_the_writer_puts_what_intercom_says_and_skips_known_entries() -> None:
    """A put of the same id writes nothing; eviction removes the entry; Memo is bounded LRU."""
    table: dict[str, Any] = {"external_id:u1": {"id": "c1", "version": 99}}
    cache = ContactCache(table, clock=lambda: 50.0)
    cache.put("u1", "c1")
    assert table["external_id:u1"]["version"] == 99
    cache.evict("u1", "test")
    cache.put("u1", "c2")
    assert table == {"external_id:u1": {"id": "c2", "version": 50}}
    memo = Memo(size=2)
    memo.put("a", "1")
    memo.put("b", "2")
    memo.get("a")
    memo.put("c", "3")
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == ("1", None, "3")
