"""What the stream core needs from tables and producers, independent of faust."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class Table(Protocol):
    """A key-value table (a dict in unit tests, a DirectTable in the worker)."""

    def get(self, key: str) -> Any:
        """Return the value, or None."""

    def __setitem__(self, key: str, value: Any) -> None:
        """Write the value."""


# Sends one record (key, value, headers); returns its ack future without waiting for it.
Publish = Callable[[bytes, bytes, list[tuple[str, bytes]]], Awaitable[Any]]

# Sends what the tables queued for their changelogs; returns the acknowledgement futures.
Flush = Callable[[], Awaitable[list[Any]]]


async def nothing_to_flush() -> list[Any]:
    """Flush nothing (tables that write through at once, as dicts in unit tests)."""
    return []
