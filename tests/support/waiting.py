"""Bounded polling for the tests: wait for a condition, failing with a clear message."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.05


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    what: str,
    timeout: float = 30.0,
    state: Callable[[], object] = lambda: "",
) -> None:
    """Poll the condition until it holds; raise AssertionError naming `what` after the timeout."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = condition()
                if await result if inspect.isawaitable(result) else result:
                    return
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what} {state()}") from None
