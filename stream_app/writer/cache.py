"""What the writer knows without asking Intercom: contact ids by external id, tag and company ids.

The contact cache is a faust table of the writer's app keyed like the commands
(`external_id:<id>`), so the entry a command needs lives in the changelog partition of that
command's own partition: it is read locally, never over the network (docs/writer.md, "The
contact cache"). Tag ids by name and Intercom company ids by your company_id are small,
stable, not keyed by contact: each writer process keeps them in bounded memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger("stream_app.writer.cache")
MEMO_SIZE = 10_000
Clock = Callable[[], float]


def contact_key(external_id: str) -> str:
    """Return the cache (and command) key of an external id."""
    return f"external_id:{external_id}"


class ContactCache:
    """Intercom contact ids by external id, with the version of the change that set each."""

    def __init__(self, table: MutableMapping[str, Any], clock: Clock = time.time) -> None:
        """Keep the table (key `external_id:<id>` -> {"id", "version"}); puts are versioned now."""
        self._table = table
        self._clock = clock

    def get(self, external_id: str) -> str | None:
        """Return the cached Intercom id of the external id, if any."""
        entry = self._table.get(contact_key(external_id))
        return str(entry["id"]) if isinstance(entry, dict) and entry.get("id") else None

    def put(self, external_id: str, contact_id: str) -> None:
        """Remember the contact id Intercom just told us (as of now)."""
        key = contact_key(external_id)
        version = int(self._clock())
        entry = self._table.get(key)
        if isinstance(entry, dict) and (
            entry.get("id") == contact_id or int(entry.get("version") or 0) > version
        ):
            return  # known already (no changelog write), or a newer webhook said otherwise
        self._table[key] = {"id": contact_id, "version": version}

    def evict(self, external_id: str, reason: str) -> None:
        """Forget the external id (Intercom no longer has that contact under that id)."""
        key = contact_key(external_id)
        if key in self._table:
            del self._table[key]
            log.info("contact_cache.evicted", external_id=external_id, reason=reason)


class Memo:
    """A bounded, least-recently-used map of look-up results."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        """Hold at most `size` entries."""
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        """Return the remembered value, if any."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: str) -> None:
        """Remember the value, forgetting the least recently used beyond the size."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def evict(self, key: str) -> None:
        """Forget the key."""
        self._items.pop(key, None)


@dataclass
class Caches:
    """Everything the recipes may read instead of calling Intercom."""

    contacts: ContactCache = field(default_factory=lambda: ContactCache({}))
    tags: Memo = field(default_factory=Memo)
    companies: Memo = field(default_factory=Memo)
