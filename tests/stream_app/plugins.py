"""Test-only handler plugins loaded into real worker processes through HANDLER_PLUGINS."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from schemas import Notification
from schemas.commands import CreateDataEvent, DataEvent
from stream_app.outputs import Output, SendCommand
from stream_app.router import HandlerContext, Router

_attempts: Counter[str] = Counter()


def command_for(notification: Notification, tag: str) -> SendCommand:
    """Return a command whose id is derived from the notification id."""
    event = DataEvent(
        event_name=f"{tag}-test",
        created_at=notification.created_at,
        id=notification.data.item.id or "none",
    )
    return SendCommand(
        CreateDataEvent(
            command_id=f"{tag}-{notification.id}",
            source="test-plugin",
            issued_at_ms=notification.created_at * 1000,
            event=event,
        )
    )


async def flaky(notification: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Fail the first two attempts of each notification, then emit one command."""
    _attempts[notification.id or ""] += 1
    if _attempts[notification.id or ""] <= 2:
        raise RuntimeError(f"transient failure {_attempts[notification.id or '']}")
    return (command_for(notification, "flaky"),)


async def slow(notification: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Take a few milliseconds, then emit one command, so a stream lasts long enough to crash."""
    await asyncio.sleep(0.002)
    return (command_for(notification, "effect"),)


async def poison(notification: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Always fail."""
    raise ValueError("this notification can never be handled")


async def effect(notification: Notification, ctx: HandlerContext) -> Sequence[Output]:
    """Emit one command per notification, for counting effects by command id."""
    return (command_for(notification, "effect"),)


def register(router: Router) -> None:
    """Register the test handlers on topics no shipped handler uses."""
    router.on("test.flaky")(flaky)
    router.on("test.poison")(poison)
    router.on("test.effect")(effect)
    router.on("test.slow")(slow)
