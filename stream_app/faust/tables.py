"""Table writes straight to the store, their changelog records sent with the app's producer.

faust's `table[key] = value` queues the changelog record in its ProducerBuffer, which sends it
through `Topic.send` (three loop yields a record) and only logs a failed send, while the commit
goes ahead. Here a write puts the value in the store (`table.data`) and queues the record in a
`ChangelogWriter`; the actor flushes it, before the event is acknowledged, to the worker's
batches (batches.py), which hand it to the app's producer. The record carries the bytes
faust's recovery writes back verbatim (the JSON faust's serializers write) on the source
event's partition (`partition_for_key`), and its acknowledgement sets the store's persisted
offset as faust's `_on_changelog_sent` does (once per second); a failed send stops the worker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from faust.stores.base import SerializedStore

from stream_app.faust.produce import stop_if_failed


@dataclass(frozen=True)
class Pending:
    """One changelog record waiting to be sent."""

    topic: str
    key: bytes
    value: bytes | None
    partition: int
    store: Any


# How long acknowledged changelog offsets wait before they are written to the stores.
PERSIST_SECONDS = 1.0


@dataclass
class PersistedOffsets:
    """Sets each changelog partition's persisted offset at most once every `delay` seconds.

    faust writes it to RocksDB on every acknowledged record; writing only the highest offset
    per partition once a second saves a RocksDB put per record (once per produce response
    still cost 2.4 puts a notification at 1,200/s). A persisted offset lower than the truth
    only makes a recovery replay more of the changelog; an unwritten one is such an offset.
    """

    delay: float = PERSIST_SECONDS
    _highest: dict[tuple[Any, Any], int] = field(default_factory=dict)

    def note(self, store: Any, ack: asyncio.Future[Any]) -> None:
        """Stop if the record failed; else keep its offset for the next write."""
        stop_if_failed(ack)
        written = ack.result()
        key = (store, written.topic_partition)
        if not self._highest:
            asyncio.get_running_loop().call_later(self.delay, self.write)
        self._highest[key] = max(written.offset, self._highest.get(key, -1))

    def write(self) -> None:
        """Write the highest acknowledged offset of each partition to its store."""
        highest, self._highest = self._highest, {}
        for (store, tp), offset in highest.items():
            store.set_persisted_offset(tp, offset)


@dataclass
class ChangelogWriter:
    """Queues the changelog records of direct writes and sends them with a producer.

    The producer takes faust's `Producer.send` arguments: the worker's BatchWriter, whose
    records share their batch's acknowledgement, so each acknowledgement is watched once.
    """

    producer: Any
    offsets: PersistedOffsets = field(default_factory=PersistedOffsets)
    _pending: list[Pending] = field(default_factory=list)
    _watched: dict[tuple[str, int], Any] = field(default_factory=dict)

    def queue(self, record: Pending) -> None:
        """Hold a record until the next flush."""
        self._pending.append(record)

    async def flush(self) -> list[asyncio.Future[Any]]:
        """Send every queued record; return their acknowledgement futures."""
        pending, self._pending = self._pending, []
        acks = []
        for record in pending:
            ack: Any = await self.producer.send(
                record.topic, record.key, record.value, record.partition, None, None
            )
            if self._watched.get(tp := (record.topic, record.partition)) is not ack:
                self._watched[tp] = ack
                ack.add_done_callback(partial(self.offsets.note, record.store))
            acks.append(ack)
        return acks


# faust.utils.json.dumps's options: with orjson installed (faust's `orjson` extra), faust's
# JSON serializer is `orjson.dumps(obj, default=..., option=FAUST_JSON)`.
FAUST_JSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


class DirectTable:
    """A faust JSON table read from its store and written through a ChangelogWriter.

    Keys and values are encoded once, with orjson as faust's JSON serializer encodes them
    (tests check the bytes are the same): faust's serializer registry costs 3 µs a key, 7 a
    value and 16 a decoded value, its layers around orjson's 1. A RocksDB store gets the bytes
    (`_get`/`_set`, what its own mapping methods call); a memory store keeps the objects.
    """

    def __init__(self, table: Any, changelog: ChangelogWriter) -> None:
        """Wrap the table; its writes' changelog records go to `changelog`."""
        if (table.key_serializer, table.value_serializer) != ("json", "json"):
            raise TypeError(f"table {table.name} is not a JSON table")
        self.table = table
        self._changelog = changelog

    @property
    def name(self) -> str:
        """The table's name."""
        return str(self.table.name)

    def get(self, key: str) -> Any:
        """Return the stored value, or None."""
        store = self.table.data
        if not isinstance(store, SerializedStore):
            return store.get(key)
        found = store._get(self.key_bytes(key))
        return None if found is None else orjson.loads(found)

    def __setitem__(self, key: str, value: Any) -> None:
        """Store the value and queue its changelog record on the current event's partition."""
        table = self.table
        partition = table.partition_for_key(key)  # also checks the changelog's partition count
        store = table.data
        key_bytes, value_bytes = self.key_bytes(key), self.value_bytes(value)
        if isinstance(store, SerializedStore):
            store._set(key_bytes, value_bytes)
        else:
            store[key] = value
        self._changelog.queue(
            Pending(table.changelog_topic_name, key_bytes, value_bytes, partition, store)
        )

    @staticmethod
    def key_bytes(key: str) -> bytes:
        """Return the key as faust writes it to the store and the changelog."""
        return orjson.dumps(key, option=FAUST_JSON)

    @staticmethod
    def value_bytes(value: Any) -> bytes:
        """Return the value as faust writes it to the store and the changelog."""
        return orjson.dumps(value, option=FAUST_JSON)
