"""Command ids being processed right now, shared by the writer's live and replay lanes.

The same command id can reach the writer twice at once: a notification replayed while its
live command is still being sent. The ledger is checked before a call and written after it,
so the second would pass the check; holding a claim on the id makes the second wait for the
first to finish and then find the id in the ledger.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Claims:
    """One lock per command id in progress, dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        """Start with no id claimed."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    def __len__(self) -> int:
        """Return how many ids are claimed or awaited."""
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, command_id: str) -> AsyncIterator[None]:
        """Hold the id for the block, after whoever holds it now."""
        lock = self._locks.setdefault(command_id, asyncio.Lock())
        self._users[command_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[command_id] -= 1
            if not self._users[command_id]:
                del self._users[command_id], self._locks[command_id]
