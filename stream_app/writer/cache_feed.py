"""Turns contact webhooks into contact-cache changes, keyed like the commands they serve.

A webhook is keyed by Intercom's contact id on the notification topic; the cache is keyed
`external_id:<id>` like the commands. So the feed re-keys: every change below is sent to the
cache-updates topic (as many partitions as the command topic) under the key of the entry it
changes, and the cache agent applies it on that partition, where the command agent reads it.

- created, updated, signed up, email changed, unarchived: `put` the external id's entry, and
  `link` the reverse entry `id:<contact id>` -> external id (what a later merge or delete
  that names only the Intercom id needs);
- `contact.deleted`, `contact.archived`: `evict` the external id's entry (and the reverse);
- `contact.merged`: `put` the surviving contact, `evict_id` the absorbed one (`merged_from`),
  which the cache agent turns into an `evict` of its external id, if it had one.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

Op = Literal["put", "link", "evict", "evict_id"]
EVICTING = ("contact.deleted", "contact.archived", "contact.archive")
KEEPING = (
    "contact.user.created",
    "contact.user.updated",
    "contact.lead.created",
    "contact.lead.updated",
    "contact.lead.signed_up",
    "contact.lead.added_email",
    "contact.email.updated",
    "contact.unarchive",
    "contact.unarchived",
    "contact.merged",
)


@dataclass(frozen=True)
class Change:
    """One change to one cache entry."""

    key: str
    op: Op
    contact_id: str | None = None
    external_id: str | None = None
    version: int = 0

    def value(self) -> bytes:
        """Return the JSON record value."""
        return orjson.dumps(self.__dict__)

    @classmethod
    def parse(cls, raw: bytes) -> Change:
        """Read a record value back."""
        return cls(**orjson.loads(raw))


def item_of(raw: bytes) -> tuple[str, dict[str, Any]] | None:
    """Return the topic and item of a contact webhook, or None for anything else."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not str(body.get("topic", "")).startswith("contact."):
        return None
    data = body.get("data")
    item = data.get("item") if isinstance(data, dict) else None
    return (str(body["topic"]), item) if isinstance(item, dict) and item.get("id") else None


def changes_of(raw: bytes) -> list[Change]:
    """Return the cache changes a webhook implies (none for other topics)."""
    found = item_of(raw)
    if found is None:
        return []
    topic, item = found
    contact_id, external_id = str(item["id"]), item.get("external_id")
    changes = []
    if topic in EVICTING:
        changes = evictions(contact_id, external_id)
    elif topic in KEEPING and external_id:
        changes = keep(contact_id, str(external_id), int(item.get("updated_at") or 0))
    merged = item.get("merged_from")
    if topic == "contact.merged" and isinstance(merged, dict) and merged.get("id"):
        changes.append(Change(f"id:{merged['id']}", "evict_id", str(merged["id"])))
    return changes


def evictions(contact_id: str, external_id: str | None) -> list[Change]:
    """Return the changes forgetting a deleted or archived contact."""
    changes = [Change(f"id:{contact_id}", "evict_id", contact_id)]
    if external_id:
        changes.append(Change(f"external_id:{external_id}", "evict", contact_id, external_id))
    return changes


def keep(contact_id: str, external_id: str, version: int) -> list[Change]:
    """Return the changes remembering a contact both ways."""
    key = f"external_id:{external_id}"
    return [
        Change(key, "put", contact_id, external_id, version),
        Change(f"id:{contact_id}", "link", contact_id, external_id, version),
    ]


def apply(table: MutableMapping[str, Any], change: Change) -> list[Change]:
    """Apply one change to the entries of its partition; return changes for other partitions."""
    current = table.get(change.key)
    if change.op in ("put", "link"):
        if not isinstance(current, dict) or int(current.get("version") or 0) <= change.version:
            table[change.key] = entry(change)
        return []
    if (
        change.op == "evict"
        and isinstance(current, dict)
        and current.get("id") != change.contact_id
    ):
        return []  # the external id names another contact by now: keep it
    if current is not None:
        del table[change.key]
    linked = current.get("external_id") if isinstance(current, dict) else None
    if change.op == "evict_id" and linked:
        return [Change(f"external_id:{linked}", "evict", change.contact_id, linked)]
    return []


def entry(change: Change) -> dict[str, Any]:
    """Return the table value a put or link writes."""
    if change.op == "put":
        return {"id": change.contact_id, "version": change.version}
    return {"external_id": change.external_id, "version": change.version}
