"""Unit tests of the handler registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas import Notification
from stream_app.router import HandlerContext, Router


async def first(notification: Notification, ctx: HandlerContext) -> Sequence[Any]:
    """A handler that does nothing."""
    return ()


async def second(notification: Notification, ctx: HandlerContext) -> Sequence[Any]:
    """Another handler that does nothing."""
    return ()


def test_exact_and_wildcard_patterns_match_in_registration_order() -> None:
    """Exact topics and `*` wildcards both match; order is registration order."""
    router = Router()
    router.on("conversation.user.created")(first)
    router.on("conversation.*")(second)
    assert router.lookup("conversation.user.created") == [first, second]
    assert router.lookup("conversation.admin.closed") == [second]
    assert router.lookup("contact.user.created") == []


def test_a_handler_registered_twice_is_called_once() -> None:
    """Overlapping patterns do not call the same handler twice."""
    router = Router()
    router.on("contact.*", "contact.user.*")(first)
    assert router.lookup("contact.user.created") == [first]
