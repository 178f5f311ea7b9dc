"""Declares the writer's contact cache, its webhook feed and the recipes' progress table.

Both tables have the command topic's partitions and are written only under the key of the
command (or cache change) being processed, so partition N of each sits with command
partition N: the command agent reads them from its local store (docs/writer.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import faust
import structlog

from stream_app.dead_letters import stop_consuming
from stream_app.faust.declare import ledger_table, raw_topic
from stream_app.faust.produce import publisher
from stream_app.ports import Publish
from stream_app.writer.cache import Caches, ContactCache
from stream_app.writer.cache_feed import Change, apply, changes_of
from stream_app.writer.config import WriterTopics

log = structlog.get_logger("stream_app.writer.services")


class ProgressTable(MutableMapping[str, Any]):
    """The writer-progress table, whose writes the producer's flush makes durable."""

    def __init__(self, table: Any, flush: Callable[[], Awaitable[None]]) -> None:
        """Wrap the faust table; `flush` sends and awaits every buffered record."""
        self._table = table
        self._flush = flush

    def __getitem__(self, key: str) -> Any:
        """Return the progress of a command (KeyError when it has none: the table has a default)."""
        if key not in self._table:
            raise KeyError(key)
        return self._table[key]

    def __contains__(self, key: object) -> bool:
        """Whether the command has progress."""
        return key in self._table

    def __setitem__(self, key: str, value: Any) -> None:
        """Record the progress of a command (on the current event's changelog partition)."""
        self._table[key] = value

    def __delitem__(self, key: str) -> None:
        """Forget the progress of a command."""
        del self._table[key]

    def __iter__(self) -> Iterator[str]:
        """Iterate over the command ids with progress (local partitions)."""
        return iter(self._table)

    def __len__(self) -> int:
        """Return how many commands have progress (local partitions)."""
        return len(self._table)

    async def persist(self) -> None:
        """Return once every progress write so far is acknowledged by Kafka."""
        await self._flush()


@dataclass(frozen=True)
class WriterState:
    """What the command processor reads and writes besides the ledger."""

    caches: Caches
    progress: MutableMapping[str, Any]


async def forward(publish: Publish, changes: list[Change]) -> None:
    """Send cache changes to the partition of the entry each one changes."""
    for change in changes:
        await publish(change.key.encode(), change.value(), [])


def webhook_changes(raw: bytes) -> list[Change]:
    """Return a webhook's cache changes; a malformed one changes nothing (the cache is a hint)."""
    try:
        return changes_of(raw)
    except (TypeError, ValueError, KeyError):
        log.warning("contact_cache.unreadable_webhook", size=len(raw))
        return []


def register_writer_state(app: faust.App, topics: WriterTopics) -> WriterState:
    """Declare the cache and progress tables and the cache agents; return what they hold."""
    parts = topics.partitions
    help_cache = "Intercom contact ids by external id ({id, version}), fed by contact webhooks."
    cache = ledger_table(app, "contact-cache", parts, help_cache)
    table = ledger_table(app, "writer-progress", parts, "Recipe progress by command id.")
    register_cache_feed(app, topics, cache)
    progress = ProgressTable(table, lambda: app.producer.flush())
    return WriterState(Caches(contacts=ContactCache(cache)), progress)


def register_cache_feed(app: faust.App, topics: WriterTopics, cache: Any) -> None:
    """Register the agents that re-key contact webhooks and apply them to the cache."""
    parts = topics.partitions
    updates_name = topics.contact_cache_updates
    notifications = raw_topic(app, topics.notifications, parts)
    updates = raw_topic(app, updates_name, parts)
    publish = publisher(app, updates_name)

    @app.agent(notifications, name="contact-cache-feed")
    async def feed(stream: Any) -> None:
        async for value in stream:
            await forward(publish, webhook_changes(value))

    @app.agent(updates, name="contact-cache")
    async def keep(stream: Any) -> None:
        async for value in stream:
            try:
                await forward(publish, apply(cache, Change.parse(value)))
            except Exception as exc:  # noqa: BLE001 - an escape would end the agent unnoticed
                stop_consuming(exc)

    register_cache_page(app, cache)


def register_cache_page(app: faust.App, cache: Any) -> None:
    """Expose the instance's local contact-cache entry count on /writer/contact-cache."""

    @app.page("/writer/contact-cache")
    async def cache_page(view: Any, request: Any) -> Any:
        return view.json({"local_entries": sum(1 for _ in cache)})
