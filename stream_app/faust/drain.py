"""The consumer's hand-over of each fetched record to its agent, without four tasks a record.

faust's `Consumer._drain_messages` hands every record over with
`await self.wait_first(callback(message), self.suspend_flow.wait())`: four tasks, an
`asyncio.wait`, three cancellations and about three loop turns a record (~50 µs on uvloop,
`../shared/faust-fastpath.md` §3.1), so that a rebalance, which sets `suspend_flow`, can
abandon a hand-over waiting on a full agent buffer or on suspended flow control. The
hand-over almost never waits: it decodes the record and puts it in the agent's queue. Here it
starts at once, as an eager task would: a hand-over that finishes without waiting costs one
`send`; one that waits goes on inside faust's `wait_first`, raced against `suspend_flow` as
before. A hand-over that finished at once is one faust's own could also have made: nothing
else ran between the drain loop's decision and its end. The drain loop then yields to the loop
only every 100 records, so a partition's whole backlog can reach its agent's buffer within one
wait of another task: during recovery's seek faust emptied those buffers afterwards, which
flow.py stops (a second worker taking over a finished stream handled nothing without it).

Private seams: `_drain_messages` calls `self.wait_first` with exactly those two coroutines,
`suspend_flow` is an asyncio Event (checked by tests/stream_app/test_faust_drain.py).
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any

import faust
from mode.services import WaitResults

_SUSPEND_WAIT = asyncio.Event.wait.__code__  # the code of `suspend_flow.wait()`'s coroutine


@types.coroutine
def _go_on(started: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Drive a coroutine that already ran to its first wait on to its end, as `await` would."""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            started.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - thrown in by the task (a cancellation)
            try:
                yielded = started.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = started.send(sent)
            except StopIteration as stop:
                return stop.value


async def _resumed(started: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    """Return the started coroutine's result, as a coroutine faust's `wait_first` accepts."""
    return await _go_on(started, yielded)


def is_hand_over(coros: tuple[Any, ...], timeout: Any) -> bool:
    """Whether a `wait_first` call is the drain loop's: a hand-over raced against suspension."""
    return (
        len(coros) == 2
        and timeout is None
        and getattr(coros[1], "cr_code", None) is _SUSPEND_WAIT
        and isinstance(coros[0], types.CoroutineType)
    )


class EagerHandOver:
    """A Consumer mix-in: the drain loop's hand-over runs at once, `wait_first` only if it waits."""

    async def wait_first(
        self,
        *coros: Any,
        timeout: Any = None,  # noqa: ASYNC109 - mode's
    ) -> WaitResults:
        """Run a hand-over eagerly; anything else, or a hand-over that waits, as faust does."""
        if not is_hand_over(coros, timeout):
            return await super().wait_first(*coros, timeout=timeout)  # type: ignore[misc, no-any-return]
        hand_over, suspended = coros
        try:
            yielded = hand_over.send(None)
        except StopIteration as done:
            suspended.close()
            return WaitResults([hand_over], [done.value], False)
        except BaseException:
            suspended.close()
            raise
        waiting = _resumed(hand_over, yielded)
        return await super().wait_first(waiting, suspended)  # type: ignore[misc, no-any-return]


def use_eager_hand_over(app: faust.App) -> None:
    """Make the app's consumer (whatever class it is so far) hand records over eagerly."""
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    base = transport.Consumer
    attributes = {"__doc__": base.__doc__}
    transport.Consumer = type(f"Eager{base.__name__}", (EagerHandOver, base), attributes)
