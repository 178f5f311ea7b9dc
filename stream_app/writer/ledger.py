"""The idempotency ledger: command ids Intercom accepted, forgotten after a TTL.

A value is `[accept time in ms, partition]`; a plain integer (written before retention existed)
is read as the accept time. An entry older than the TTL counts as absent at once. Removing it
is a table change, and faust writes a change to the changelog partition of the event being
processed, so an entry is deleted only while a command of its own partition is processed (its
partition is in its value). Every `scan_every` seconds one pass over the local store collects
up to `max_candidates` expired entries; each processed command then deletes up to `batch` of
its partition's candidates. The pass is synchronous on purpose: the memory store's dict must
not change under it, and a rocksdb iterator must not outlive a rebalance. Old plain integers
carry no partition and are never deleted (they are still honoured, then ignored after the TTL).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, MutableMapping
from typing import Any

from stream_app.writer.limiter import Clock

SCAN_EVERY_SECONDS = 3600.0
RESCAN_SECONDS = 60.0  # when the last pass found more expired entries than it could keep
MAX_CANDIDATES = 10_000
EVICT_BATCH = 100

Entry = tuple[int, int | None]  # (accept time in ms, partition or None for an old entry)


def read(value: Any) -> Entry | None:
    """Return the accept time and partition of a stored value, or None when unreadable."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, list | tuple) and len(value) == 2:
        accepted, partition = value
        if isinstance(accepted, int) and isinstance(partition, int):
            return accepted, partition
    return None


class Ledger:
    """Accepted command ids with their accept times, each kept for `ttl_seconds`."""

    def __init__(
        self,
        table: MutableMapping[str, Any],
        ttl_seconds: float,
        clock: Clock = time.time,
        on_scan: Callable[[int], None] = lambda size: None,
        scan_every: float = SCAN_EVERY_SECONDS,
        max_candidates: int = MAX_CANDIDATES,
        batch: int = EVICT_BATCH,
    ) -> None:
        """Keep the table (id -> value); the first tidy() scans; `on_scan` hears the size."""
        self._table = table
        self._ttl_ms = int(ttl_seconds * 1000)
        self._clock = clock
        self._on_scan = on_scan
        self._scan_every = scan_every
        self._max_candidates = max_candidates
        self._batch = batch
        self._candidates: dict[int, deque[tuple[str, int]]] = {}
        self._next_scan = float("-inf")

    def _now_ms(self) -> int:
        """Return the clock in milliseconds."""
        return int(self._clock() * 1000)

    def __contains__(self, command_id: object) -> bool:
        """Whether the id was accepted less than the TTL ago."""
        entry = read(self._table.get(command_id)) if isinstance(command_id, str) else None
        return entry is not None and self._now_ms() - entry[0] < self._ttl_ms

    def record(self, command_id: str, partition: int) -> None:
        """Record the id as accepted now, by a command of this partition."""
        self._table[command_id] = [self._now_ms(), partition]

    def tidy(self, partition: int) -> int:
        """Delete up to `batch` expired entries of the partition (scanning when due); count them."""
        if self._clock() >= self._next_scan:
            self._scan()
        queue = self._candidates.get(partition)
        removed = 0
        while queue and removed < self._batch:
            command_id, accepted = queue.popleft()
            if read(self._table.get(command_id)) == (accepted, partition):  # not re-recorded
                del self._table[command_id]
                removed += 1
        return removed

    def _scan(self) -> None:
        """Collect the expired entries of every partition, up to `max_candidates` in all."""
        cutoff = self._now_ms() - self._ttl_ms
        found: dict[int, deque[tuple[str, int]]] = {}
        kept = size = expired = 0
        for command_id, value in self._table.items():
            size += 1
            entry = read(value)
            if entry is None or entry[1] is None or entry[0] > cutoff:
                continue
            expired += 1
            if kept < self._max_candidates:
                found.setdefault(entry[1], deque()).append((command_id, entry[0]))
                kept += 1
        self._candidates = found
        pause = min(RESCAN_SECONDS, self._scan_every) if expired > kept else self._scan_every
        self._next_scan = self._clock() + pause
        self._on_scan(size)
