"""Persistence and draining with a fake producer: Kafka first, the spool when it does not answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingress.metrics import Metrics
from ingress.persistence import Persistence
from ingress.producer_link import ProducerLink
from ingress.records import Record, decode
from ingress.spool import Drainer, Spool
from ingress.spool.drain import STALL_SECONDS
from tests.fakes.producer import FakeProducers
from tests.support.waiting import until


def record(index: int) -> Record:
    """A small record with a recognisable value."""
    return Record("topic", b"key", f"value-{index}".encode(), (("h", b"v"),))


@dataclass
class Rig:
    """The persistence with its spool, drainer and fake broker."""

    persistence: Persistence
    spool: Spool
    producers: FakeProducers
    drainer: asyncio.Task[None]

    async def drained(self) -> None:
        """Wait until the spool is empty, failing clearly after a bounded wait."""
        await until(lambda: self.spool.depth == 0, "the spool to drain", timeout=5)


async def no_sleep(_: float) -> None:
    """Yield instead of sleeping between retries."""
    await asyncio.sleep(0)


async def connected(
    tmp_path: Path, producers: FakeProducers
) -> tuple[Spool, ProducerLink, Metrics, Persistence]:
    """Open a spool, connect a link to the fake broker, persist with a short produce timeout."""
    spool = Spool(tmp_path / "spool")
    await spool.open()
    link = ProducerLink(producers, sleep=no_sleep)
    link.start()
    await producers.connected()
    metrics = Metrics()
    persistence = Persistence(link, spool, metrics, timeout=0.05)
    return spool, link, metrics, persistence


@pytest.fixture
def stall() -> float:
    """The drainer's stall period: its default unless a test overrides this fixture."""
    return STALL_SECONDS


@pytest.fixture
async def rig(tmp_path: Path, producers: FakeProducers, stall: float) -> AsyncIterator[Rig]:
    """A connected persistence (a short produce timeout) and a running drainer."""
    spool, link, metrics, persistence = await connected(tmp_path, producers)
    drainer = Drainer(link, spool, persistence, metrics, sleep=no_sleep, stall=stall)
    task = asyncio.create_task(drainer.run())
    yield Rig(persistence, spool, producers, task)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await link.close(flush_seconds=0.1)
    await spool.close()


def values(producers: FakeProducers) -> list[bytes]:
    """The values the fake broker acknowledged, in order."""
    return [sent.value for sent in producers.broker.acknowledged]


async def test_a_healthy_broker_takes_records_directly(rig: Rig) -> None:
    """With Kafka acknowledging, records are produced and the spool stays empty."""
    assert await rig.persistence.persist(record(1)) == "produced"
    assert (values(rig.producers), rig.spool.depth) == ([b"value-1"], 0)


async def test_a_stalled_send_is_spooled_and_not_sent_twice(rig: Rig) -> None:
    """A send that times out is spooled; when it completes late the drainer does not resend."""
    rig.producers.broker.stalled = True
    assert await rig.persistence.persist(record(1)) == "spooled"
    assert await rig.persistence.persist(record(2)) == "spooled"
    assert not rig.persistence.kafka_healthy
    rig.producers.broker.release()
    await rig.drained()
    assert values(rig.producers) == [b"value-1", b"value-2"]
    assert rig.persistence.kafka_healthy


async def test_records_after_a_spooled_one_queue_behind_it(rig: Rig) -> None:
    """While the spool is not empty new records go behind it, so order holds."""
    rig.producers.broker.stalled = True
    await rig.persistence.persist(record(1))
    pending = [asyncio.create_task(rig.persistence.persist(record(i))) for i in range(2, 6)]
    assert await asyncio.gather(*pending) == ["spooled"] * 4
    rig.producers.broker.release()
    await rig.drained()
    assert values(rig.producers) == [f"value-{i}".encode() for i in range(1, 6)]
    assert await rig.persistence.persist(record(6)) == "produced"


async def test_a_producer_that_can_no_longer_send_is_replaced(rig: Rig) -> None:
    """After a fatal producer error the producer is replaced and the spooled record drains."""
    rig.producers.broker.poisoned = True
    assert await rig.persistence.persist(record(1)) == "spooled"
    await until(lambda: len(rig.producers.made) == 2, "a second producer", timeout=5)
    rig.producers.broker.poisoned = False
    await rig.drained()
    assert values(rig.producers) == [b"value-1"]
    assert rig.producers.made[0].stopped


@pytest.mark.parametrize("stall", [0.02])
async def test_sends_pending_through_an_outage_are_awaited_not_abandoned(rig: Rig) -> None:
    """With no broker answering, stalled sends keep the producer: none is failed and sent again."""
    rig.producers.broker.up = False
    assert await rig.persistence.persist(record(1)) == "spooled"
    await until(lambda: rig.producers.broker.probes >= 3, "three stalls with the broker down")
    assert len(rig.producers.made) == 1
    assert [future.done() for _, future in rig.producers.broker.held] == [False]
    rig.producers.broker.up = True
    rig.producers.broker.release()
    await rig.drained()
    assert values(rig.producers) == [b"value-1"]


@pytest.mark.parametrize("stall", [0.02])
async def test_a_producer_stalled_while_the_broker_answers_is_replaced(rig: Rig) -> None:
    """Sends pending for a whole stall period with the broker answering replace the producer."""
    rig.producers.broker.stalled = True
    assert await rig.persistence.persist(record(1)) == "spooled"
    await until(lambda: len(rig.producers.made) == 2, "a second producer", timeout=5)
    assert rig.producers.made[0].stopped
    rig.producers.broker.release()
    await rig.drained()
    assert values(rig.producers) == [b"value-1"]


async def test_sends_acknowledged_during_the_final_flush_are_not_sent_again(
    tmp_path: Path, producers: FakeProducers
) -> None:
    """At shutdown, a spooled record whose late send landed is marked drained; unsent ones stay.

    The second record went straight to the spool (the spool was not empty), so it was never sent
    and the next start must send it.
    """
    spool, link, metrics, persistence = await connected(tmp_path, producers)
    producers.broker.stalled = True
    assert [await persistence.persist(record(i)) for i in (1, 2)] == ["spooled", "spooled"]
    producers.broker.release()  # what the final flush waits for: the late sends land
    await Drainer(link, spool, persistence, metrics, sleep=no_sleep).finish()
    assert spool.depth == 1
    await link.close(flush_seconds=0.1)
    await spool.close()
    reopened = Spool(tmp_path / "spool")
    await reopened.open()
    [left] = await reopened.read(10)
    await reopened.close()
    assert decode(left.payload).value == b"value-2"
    assert values(producers) == [b"value-1"]
