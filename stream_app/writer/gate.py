"""The writer's health: a gate that closes every send while Intercom refuses the token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

log = structlog.get_logger("stream_app.writer.gate")


class AuthGate:
    """Open while sending is allowed; closed on 401/403 or a missing token (unhealthy)."""

    def __init__(self, on_change: Callable[[bool], None] = lambda healthy: None) -> None:
        """Start open (healthy); `on_change` hears every transition."""
        self._open = asyncio.Event()
        self._open.set()
        self._on_change = on_change
        self.reason = ""

    @property
    def is_open(self) -> bool:
        """Whether sending is allowed (the writer is healthy)."""
        return self._open.is_set()

    def close(self, reason: str) -> bool:
        """Stop all sending; return True when this call closed an open gate (the caller probes)."""
        if not self._open.is_set():
            return False
        self._open.clear()
        self.reason = reason
        log.error("writer.unhealthy", reason=reason)
        self._on_change(False)
        return True

    def reopen(self) -> None:
        """Allow sending again after a probe succeeded."""
        if self._open.is_set():
            return
        self._open.set()
        self.reason = ""
        log.info("writer.healthy")
        self._on_change(True)

    async def wait_open(self) -> None:
        """Wait until sending is allowed."""
        await self._open.wait()
