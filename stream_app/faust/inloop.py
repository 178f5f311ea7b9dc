"""faust's consumer "thread" run as a task of the worker's own event loop, not in a thread.

faust runs aiokafka's consumer in `AIOKafkaConsumerThread`, a mode `ServiceThread` with an event
loop of its own, and reaches it through `call_thread`: a queued method, a future resolved across
threads and a wake-up of each loop, for every fetch, commit and seek. The two threads then take
turns at the GIL: the consumer thread, woken by each fetch response, waits for the GIL held by
the agents, and the agents wait for the records it hands back (docs/benchmarks.md, session 14).
Here the same class runs on the loop that created it: aiokafka's consumer is built on that loop,
`call_thread` is a plain call, and the thread's own start and stop sequences run as a task of
that loop. faust's rebalance callbacks already go through a method queue on that loop.

The worker measured 6.6-10.5 % more notifications/s with it, in three of three alternated pairs
(docs/benchmarks.md, session 15). A stall of the loop now delays the consumer's heartbeats too;
the worker's session timeout (30 s by default) is far beyond the loop's longest stalls measured
in the benchmarks (under 0.2 s).

Private seams (mode's `ServiceThread`: `thread_loop`, `_thread_started`, `_thread_running`,
`_serve`, `_gather_remaining_tasks`; faust's `call_thread`, `cast_thread` and
`_new_consumer_thread`) are checked by tests/stream_app/test_faust_inloop.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from mode.utils.futures import maybe_async

from stream_app.faust.fetch import new_consumer_thread


class InLoop:
    """A mix-in for faust's consumer thread class: run it on the loop that created it."""

    parent_loop: asyncio.AbstractEventLoop
    _thread_started: Any  # mode's Event
    _thread_running: asyncio.Future[None] | None
    _serving: asyncio.Task[None] | None = None

    def __init__(self, consumer: Any, **kwargs: Any) -> None:
        """Create the service with its "thread loop" set to the loop it is created on."""
        loop = kwargs.pop("loop", None) or asyncio.get_event_loop_policy().get_event_loop()
        super().__init__(consumer, loop=loop, thread_loop=loop, **kwargs)  # type: ignore[call-arg]

    async def start(self) -> None:
        """Run the thread's start-up and service as a task; return once it has started."""
        if self._thread_started.is_set():
            raise RuntimeError(f"{type(self).__name__} started twice")
        self._thread_started.set()
        self._thread_running = self.parent_loop.create_future()
        self._serving = self.parent_loop.create_task(self._serve())  # type: ignore[attr-defined]
        try:
            await self._thread_running
        finally:
            self._thread_running = None

    async def call_thread(self, fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the method here, awaiting what it returns if awaitable."""
        return await maybe_async(fun(*args, **kwargs))

    async def cast_thread(
        self, fun: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> None:
        """Run the method as a task of the service, without waiting for it."""
        self.add_future(maybe_async(fun(*args, **kwargs)))  # type: ignore[attr-defined]

    async def _gather_remaining_tasks(self) -> None:
        """Leave the loop's other tasks alone: they are the worker's, not a thread's own."""


def run_consumer_in_loop(app: faust.App) -> None:
    """Make the app's consumer run its consumer thread class (whatever it is so far) in-loop."""
    transport: Any = app.transport  # `Consumer` is the class faust's transport instantiates
    base = transport.Consumer
    thread = getattr(base, "consumer_thread_class", AIOKafkaConsumerThread)
    attributes = {
        "_new_consumer_thread": new_consumer_thread,
        "consumer_thread_class": type(f"InLoop{thread.__name__}", (InLoop, thread), {}),
        "__doc__": base.__doc__,
    }
    transport.Consumer = type(f"InLoop{base.__name__}", (base,), attributes)
