"""The producer link starts while the broker is down and connects once it answers."""

from __future__ import annotations

import asyncio

from ingress.producer_link import ProducerLink
from ingress.records import Record
from tests.fakes.producer import FakeProducer, FakeProducers


async def test_link_retries_until_the_broker_answers_and_closes_failed_producers() -> None:
    """Failed starts are stopped and retried; the first started producer is kept."""
    producers = FakeProducers()
    producers.broker.up = False
    attempts = asyncio.Queue[float]()

    async def sleep(seconds: float) -> None:
        await attempts.put(seconds)
        if attempts.qsize() == 3:
            producers.broker.up = True

    link = ProducerLink(producers, sleep=sleep, retry=0.25)
    link.start()
    producer = await asyncio.wait_for(link.connected(), timeout=5)
    assert link.producer is producer
    assert len(producers.made) == 4
    assert all(p.stopped for p in producers.made[:3])
    await link.close()
    assert producers.made[3].stopped


async def test_close_abandons_sends_the_broker_never_acknowledges() -> None:
    """Closing with sends stuck in flight fails them after the bounded flush, and stops."""
    producers = FakeProducers()
    link = ProducerLink(producers)
    link.start()
    producer = await asyncio.wait_for(link.connected(), timeout=5)
    producers.broker.stalled = True
    future = producer.send(Record("t", b"k", b"v", ()))
    await link.close(flush_seconds=0.05)
    assert future.exception() is not None
    assert isinstance(producer, FakeProducer)
    assert producer.stopped


async def test_replace_retires_only_the_producer_that_failed() -> None:
    """A late failure from a producer already replaced leaves its healthy successor alone."""
    producers = FakeProducers()
    link = ProducerLink(producers)
    link.start()
    first = await asyncio.wait_for(link.connected(), timeout=5)
    link.replace(first, "fatal error")
    second = await asyncio.wait_for(link.connected(), timeout=5)
    assert second is not first
    link.replace(first, "a late report of the same fatal error")
    assert link.producer is second
    assert len(producers.made) == 2
    await link.close()
