"""Dead-letter operations: list, show, requeue and discard records of the dead-letter topic.

A dead letter's id is `partition:offset` on the dead-letter topic. Requeuing writes the failed
record back where it failed, byte for byte with its key and headers plus `x-requeued-from`;
the worker's dedup (notification id) and the writer's ledger (command id) keep a record
requeued twice from being processed twice. Requeued and discarded letters are marked in a
compacted resolution topic; nothing is ever deleted from Kafka.
"""

from __future__ import annotations

import fnmatch
import getpass
import socket
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from intercom_stream.ops import kafka_io
from intercom_stream.ops.timespec import iso
from intercom_stream.settings import Settings
from intercom_stream.topics import resolution_topic
from schemas import DeadLetter, headers

REQUEUED_FROM = "x-requeued-from"
REQUEUED_AT_MS = "x-requeued-at-ms"
REQUEUED_BY = "x-requeued-by"


@dataclass(frozen=True)
class Entry:
    """One record of the dead-letter topic with its resolution, if any."""

    id: str
    timestamp_ms: int
    letter: DeadLetter
    headers: tuple[tuple[str, bytes], ...]
    resolution: dict[str, Any] | None = None

    def intercom_topic(self) -> str | None:
        """Return the Intercom topic of the failed notification (header, else the payload)."""
        for header in self.letter.headers:
            if header.key == headers.INTERCOM_TOPIC:
                return header.value.decode(errors="replace")
        return payload_field(self.letter.payload, "topic")

    def summary(self) -> dict[str, Any]:
        """Return the listing's fields as JSON-ready values."""
        letter = self.letter
        return {
            "id": self.id,
            "stage": letter.stage,
            "error_type": letter.error_type,
            "reason": letter.reason,
            "source_topic": letter.source_topic,
            "intercom_topic": self.intercom_topic(),
            "attempts": letter.attempts,
            "failed_at": iso(letter.failed_at_ms),
            "resolved": self.resolution["action"] if self.resolution else None,
        }


def payload_field(payload: bytes, name: str) -> str | None:
    """Return a top-level string field of a JSON payload, or None."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    found = value.get(name) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


@dataclass(frozen=True)
class Selection:
    """Which dead letters a command applies to."""

    ids: tuple[str, ...] = ()
    stage: str | None = None
    error_type: str | None = None
    topic: str | None = None
    since_ms: int | None = None
    include_resolved: bool = False

    def matches(self, entry: Entry) -> bool:
        """Whether the entry is selected (an id named explicitly is selected even if resolved)."""
        if self.ids:
            return entry.id in self.ids
        letter = entry.letter
        return (
            (self.include_resolved or entry.resolution is None)
            and self.stage in (None, letter.stage)
            and self.error_type in (None, letter.error_type)
            and (self.since_ms is None or letter.failed_at_ms >= self.since_ms)
            and (self.topic is None or self.topic_matches(entry))
        )

    def topic_matches(self, entry: Entry) -> bool:
        """Whether the Intercom topic or the source Kafka topic matches the glob."""
        names = [entry.intercom_topic(), entry.letter.source_topic]
        return any(n is not None and fnmatch.fnmatchcase(n, self.topic or "") for n in names)


@dataclass
class Inventory:
    """The dead-letter topic as read now: its entries, and records that are not dead letters."""

    entries: list[Entry] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def select(self, selection: Selection) -> list[Entry]:
        """Return the selected entries, oldest failure first."""
        return sorted(
            (e for e in self.entries if selection.matches(e)), key=lambda e: e.letter.failed_at_ms
        )


def to_entry(record: Any, resolutions: dict[str, dict[str, Any]]) -> Entry:
    """Build an entry from a dead-letter record (raises ValidationError if it is not one)."""
    ident = f"{record.partition}:{record.offset}"
    return Entry(
        id=ident,
        timestamp_ms=record.timestamp,
        letter=DeadLetter.model_validate_json(record.value),
        headers=tuple((str(k), bytes(v or b"")) for k, v in record.headers or ()),
        resolution=resolutions.get(ident),
    )


def inventory(records: Iterable[Any], resolutions: dict[str, dict[str, Any]]) -> Inventory:
    """Return the inventory of dead-letter records, keeping unreadable ones aside."""
    found = Inventory()
    for record in records:
        try:
            found.entries.append(to_entry(record, resolutions))
        except ValidationError:
            found.unreadable.append(f"{record.partition}:{record.offset}")
    return found


def latest_resolutions(records: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Return the newest resolution of each dead-letter id (a null value clears it)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        key = (record.key or b"").decode()
        if record.value is None:
            latest.pop(key, None)
        else:
            latest[key] = orjson.loads(record.value)
    return latest


async def load(settings: Settings) -> Inventory:
    """Read the dead-letter topic and the resolutions, both up to their current ends."""
    bootstrap = settings.bootstrap_servers()
    resolved = latest_resolutions(await kafka_io.read_topic(bootstrap, resolution_topic(settings)))
    return inventory(await kafka_io.read_topic(bootstrap, settings.topic_dead_letter), resolved)


def operator() -> str:
    """Return who runs the command, as user@host, for resolutions and audit records."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def requeue_target(entry: Entry, settings: Settings) -> str:
    """Return the topic the letter goes back to (an ingress letter goes to the notifications)."""
    return entry.letter.source_topic or settings.topic_notifications


def requeue_headers(entry: Entry, settings: Settings, now_ms: int) -> list[tuple[str, bytes]]:
    """Return the original headers plus the requeue's provenance."""
    original = [(h.key, h.value) for h in entry.letter.headers]
    return [
        *original,
        (REQUEUED_FROM, f"{settings.topic_dead_letter}:{entry.id}".encode()),
        (REQUEUED_AT_MS, str(now_ms).encode()),
        (REQUEUED_BY, operator().encode()),
    ]


def resolution(entry: Entry, action: str, now_ms: int, target: str | None) -> bytes:
    """Return the resolution record's value."""
    record = {"id": entry.id, "action": action, "at_ms": now_ms, "by": operator()}
    return orjson.dumps({**record, "target": target})


Report = Callable[[Entry, str], None]
Action = Callable[[Settings, list[Entry], Callable[[], float], Report], Coroutine[Any, Any, int]]


async def requeue(
    settings: Settings, entries: list[Entry], now: Callable[[], float], report: Report
) -> int:
    """Write each entry back to its source topic, then mark it resolved; return how many."""
    async with kafka_io.writer(settings.bootstrap_servers()) as producer:
        for entry in entries:
            at_ms, topic = int(now() * 1000), requeue_target(entry, settings)
            letter = entry.letter
            hdrs = requeue_headers(entry, settings, at_ms)
            part, off = await kafka_io.send(
                producer, topic, letter.source_key, letter.payload, hdrs
            )
            target = f"{topic}:{part}:{off}"
            mark = resolution(entry, "requeued", at_ms, target)
            await kafka_io.send(producer, resolution_topic(settings), entry.id.encode(), mark, ())
            report(entry, target)
    return len(entries)


async def discard(
    settings: Settings, entries: list[Entry], now: Callable[[], float], report: Report
) -> int:
    """Mark each entry resolved as discarded (the record stays on the topic); return how many."""
    async with kafka_io.writer(settings.bootstrap_servers()) as producer:
        for entry in entries:
            mark = resolution(entry, "discarded", int(now() * 1000), None)
            await kafka_io.send(producer, resolution_topic(settings), entry.id.encode(), mark, ())
            report(entry, "discarded")
    return len(entries)


def oldest_unresolved_age(found: Inventory, now: float) -> float:
    """Return the age in seconds of the oldest unresolved dead letter (0 when there is none)."""
    pending = [e.letter.failed_at_ms for e in found.entries if e.resolution is None]
    return max(0.0, now - min(pending) / 1000) if pending else 0.0
