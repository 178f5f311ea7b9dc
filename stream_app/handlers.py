"""The shipped notification handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from schemas import Notification
from stream_app.router import HandlerContext, Router

log = structlog.get_logger("stream_app.handlers")


def register_handlers(router: Router) -> Router:
    """Register every shipped handler on the router and return it."""

    @router.on("*")
    async def log_notification(notification: Notification, ctx: HandlerContext) -> Sequence[Any]:
        """Log the notification with its identity and position."""
        log.info(
            "notification.handled",
            topic=notification.topic,
            notification_id=notification.id,
            item_type=notification.data.item.type,
            item_id=notification.data.item.id,
            partition=ctx.partition,
            offset=ctx.offset,
        )
        return ()

    return router
