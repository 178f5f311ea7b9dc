"""Stand-ins for faust's producer and current event, for the tests of stream_app.faust."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, NoReturn

from faust.streams import _current_event
from faust.types import TP


class Stopped(Exception):
    """Raised instead of exiting the test process."""


def fake_stop(exc: BaseException) -> NoReturn:
    """Stand in for os._exit so a test can observe the decision."""
    raise Stopped(repr(exc))


class FakeProducer:
    """Records each send as faust's Producer.send receives it and returns its ack future."""

    def __init__(self) -> None:
        """Start with nothing sent; acks stay pending until `ack_all` or `fail_all`."""
        self.sent: list[tuple[Any, ...]] = []
        self.acks: list[asyncio.Future[Any]] = []

    async def send(
        self, topic: str, key: Any, value: Any, partition: Any, timestamp: Any, headers: Any
    ) -> asyncio.Future[Any]:
        """Record the call (faust's positional signature) and return a pending ack."""
        self.sent.append((topic, key, value, partition, timestamp, headers))
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        return ack

    def ack_all(self, first_offset: int = 0) -> None:
        """Acknowledge every pending send with aiokafka-shaped metadata."""
        for offset, (ack, (topic, *_, partition, _ts, _h)) in enumerate(
            zip(self.acks, self.sent, strict=True), first_offset
        ):
            tp = TP(topic, partition)
            ack.set_result(SimpleNamespace(topic_partition=tp, offset=offset))


@contextmanager
def processing(topic: str, partition: int) -> Iterator[None]:
    """Make faust see a current event from the topic's partition (as inside an agent)."""
    event = SimpleNamespace(message=SimpleNamespace(topic=topic, partition=partition))
    token = _current_event.set(lambda: event)  # type: ignore[arg-type]  # a weakref stand-in
    try:
        yield
    finally:
        _current_event.reset(token)
