"""A fake of the ingress's Kafka producer: acknowledges, stalls or fails on command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ingress.errors import (
    DeliveryError,
    DeliveryTimeoutError,
    KafkaUnavailableError,
    ProducerFailedError,
)
from ingress.records import Record


@dataclass(frozen=True)
class Sent:
    """One record the fake producer acknowledged."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


@dataclass
class Broker:
    """The shared state of the fake cluster: what was acknowledged, and how it behaves."""

    up: bool = True
    stalled: bool = False
    probes: int = 0
    poisoned: bool = False
    acknowledged: list[Sent] = field(default_factory=list)
    held: list[tuple[Sent, asyncio.Future[Any]]] = field(default_factory=list)

    def release(self) -> None:
        """Acknowledge every held send, oldest first."""
        self.stalled = False
        for sent, future in self.held:
            self.acknowledged.append(sent)
            if not future.done():  # a cancelled request's send still lands
                future.set_result(None)
        self.held.clear()


class FakeProducer:
    """Mimics the ingress producer's start, send, flush, probe, abandon and stop."""

    def __init__(self, broker: Broker, on_start: asyncio.Event) -> None:
        self._broker = broker
        self._on_start = on_start
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        if not self._broker.up:
            raise KafkaUnavailableError("fake broker is down")
        self.started = True
        self._on_start.set()

    def send(self, record: Record) -> asyncio.Future[None]:
        sent = Sent(record.topic, record.key, record.value, record.headers)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._broker.poisoned:
            future.set_exception(ProducerFailedError("fake producer is out of sequence"))
        elif self._broker.stalled or not self._broker.up:
            self._broker.held.append((sent, future))
        else:
            self._broker.acknowledged.append(sent)
            future.set_result(None)
        return future

    def detach(self, future: asyncio.Future[None]) -> asyncio.Future[None]:
        late: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        held = self._broker.held
        held[:] = [(sent, late if pending is future else pending) for sent, pending in held]
        future.set_exception(DeliveryTimeoutError(late))
        return late

    async def flush(self, seconds: float) -> bool:
        if self._broker.held:
            await asyncio.wait([future for _, future in self._broker.held], timeout=seconds)
        return not self._broker.held

    async def reachable(self) -> bool:
        self._broker.probes += 1
        return self._broker.up

    def abandon(self) -> None:
        for _, future in self._broker.held:
            if not future.done():
                future.set_exception(DeliveryError("fake producer abandoned its sends"))
        self._broker.held.clear()

    async def stop(self) -> None:
        self.stopped = True


class FakeProducers:
    """A producer factory that records every producer it made."""

    def __init__(self) -> None:
        self.broker = Broker()
        self.made: list[FakeProducer] = []
        self._connected = asyncio.Event()

    def __call__(self) -> Any:
        producer = FakeProducer(self.broker, self._connected)
        self.made.append(producer)
        return producer

    async def connected(self, timeout: float = 5.0) -> None:
        """Wait until a producer started, failing clearly after the timeout."""
        async with asyncio.timeout(timeout):
            await self._connected.wait()
