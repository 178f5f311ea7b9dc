"""A registry of notification handlers keyed by topic, with `*` wildcards."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from schemas import Notification
from stream_app.outputs import Output


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may know about the record it handles."""

    topic: str
    key: bytes | None
    partition: int
    offset: int


Handler = Callable[[Notification, HandlerContext], Awaitable[Sequence[Output]]]


class Router:
    """Finds the handlers registered for a notification topic."""

    def __init__(self) -> None:
        """Start with no handlers."""
        self._routes: list[tuple[str, Handler]] = []
        self._cache: dict[str, list[Handler]] = {}

    def on(self, *patterns: str) -> Callable[[Handler], Handler]:
        """Register the decorated handler for each topic pattern (`conversation.*`)."""

        def register(handler: Handler) -> Handler:
            self._routes.extend((pattern, handler) for pattern in patterns)
            self._cache.clear()
            return handler

        return register

    def lookup(self, topic: str) -> list[Handler]:
        """Return the handlers whose pattern matches the topic, in registration order."""
        if (cached := self._cache.get(topic)) is not None:
            return cached
        found = self._cache[topic] = self._match(topic)
        return found

    def _match(self, topic: str) -> list[Handler]:
        """Return the matching handlers by trying every pattern."""
        found: list[Handler] = []
        for pattern, handler in self._routes:
            if fnmatch.fnmatchcase(topic, pattern) and handler not in found:
                found.append(handler)
        return found
