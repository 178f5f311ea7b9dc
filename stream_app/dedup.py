"""Remembers which notifications' effects were produced, so redeliveries have no second effect."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from stream_app.ports import Table


class Deduplicator:
    """Notification ids marked done in a changelog-backed table, each for `ttl_seconds`.

    An id is marked done only once every output of its notification was acknowledged by
    Kafka; until then it is pending, and redeliveries arriving meanwhile count as duplicates.
    """

    def __init__(
        self,
        table: Table,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep the table of done ids (id -> ms marked), the TTL and the clock."""
        self._table = table
        self._ttl_ms = int(ttl_seconds * 1000)
        self._clock = clock
        self._pending: deque[tuple[str, Sequence[Any]]] = deque()
        self._pending_ids: set[str] = set()

    def _now_ms(self) -> int:
        """Return the clock in milliseconds."""
        return int(self._clock() * 1000)

    def seen(self, notification_id: str) -> bool:
        """Whether the id is pending, or was marked done less than the TTL ago."""
        if notification_id in self._pending_ids:
            return True
        marked = self._table.get(notification_id)
        return marked is not None and self._now_ms() - int(marked) < self._ttl_ms

    def track(self, notification_id: str, acks: Sequence[Any]) -> None:
        """Hold the id as pending until the futures of its outputs are all done."""
        self._pending.append((notification_id, acks))
        self._pending_ids.add(notification_id)
        self.settle()

    def settle(self) -> int:
        """Mark done, in arrival order, every pending id whose outputs were all acknowledged.

        An id with a failed send is dropped unmarked, so a redelivery is processed again.
        """
        marked = 0
        while self._pending:
            outcome = _outcome(self._pending[0][1])
            if outcome == "pending":
                break
            notification_id, _ = self._pending.popleft()
            self._pending_ids.discard(notification_id)
            if outcome == "acked":
                self._table[notification_id] = self._now_ms()
                marked += 1
        return marked

    @property
    def pending(self) -> int:
        """How many ids wait for their outputs' acknowledgements."""
        return len(self._pending)


def _outcome(acks: Sequence[Any]) -> str:
    """Return `pending` if a send is not done, else `failed` if one failed, else `acked`.

    A plain value, not a future, counts as acknowledged.
    """
    outcome = "acked"
    for ack in acks:
        done = getattr(ack, "done", None)
        if done is None:
            continue
        if not done():
            return "pending"
        if ack.cancelled() or ack.exception() is not None:
            outcome = "failed"
    return outcome
