"""Broker outages against a private second broker: nothing answered 2xx is lost or reordered."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from dev.support.processes import Process, free_port
from ingress.app import WEBHOOK_PATH, Ingress, Seams
from ingress.persistence import Persistence
from intercom_stream import samples
from intercom_stream.settings import Settings, namespaced_topics
from intercom_stream.topics import ensure_topics
from schemas import headers
from tests.ingress.conftest import signed
from tests.ingress.serving import client_of, started
from tests.support.kafka import consume, consume_all
from tests.support.second_broker import SecondBroker
from tests.support.waiting import until

pytestmark = pytest.mark.integration
KEYS = ("1001", "1002", "1003", "1004")
OUTAGE_SECONDS = 60.0


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondBroker]:
    """A second broker this module may stop and start; always stopped at the end."""
    second = SecondBroker(tmp_path_factory.mktemp("kafka2"))
    try:
        yield second
    finally:
        second.run("down")


@pytest.fixture
def outage_settings(
    broker: SecondBroker, make_settings: Callable[..., Settings], unique: str, tmp_path: Path
) -> Settings:
    """Settings pointing at the second broker, with this test's topics and spool."""
    return make_settings(
        kafka_bootstrap_servers=broker.address,
        **namespaced_topics(f"t-{unique}"),
        topic_partitions=2,
        ingress_spool_dir=str(tmp_path / "spool"),
        ingress_port=free_port(),
    )


async def broker_up(broker: SecondBroker, settings: Settings) -> None:
    """Start the broker and create the test's topics."""
    await broker.up()
    await ensure_topics(settings)


def notification(index: int) -> bytes:
    """A notification numbered index, about one of a few conversations."""
    created_at = 1_763_700_000 + index
    item = samples.conversation_item(KEYS[index % len(KEYS)], "c1", created_at)
    return samples.notification_bytes(
        item=item, notification_id=f"notif_{index:05d}", created_at=created_at
    )


def sent_ids_by_key(records: list) -> dict[bytes, list[bytes]]:
    """Group the notification ids on the topic by key, in partition order."""
    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key[record.key].append(dict(record.headers)[headers.NOTIFICATION_ID])
    return by_key


def expected_by_key(indices: list[int]) -> dict[bytes, list[bytes]]:
    """The ids each key should carry, in send order."""
    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    for index in indices:
        by_key[KEYS[index % len(KEYS)].encode()].append(f"notif_{index:05d}".encode())
    return by_key


def differences(
    landed: dict[bytes, list[bytes]], answered: dict[bytes, list[bytes]]
) -> dict[bytes, dict[str, object]]:
    """Describe, per key, how the landed ids differ from the answered ones."""
    found: dict[bytes, dict[str, object]] = {}
    for key in sorted(landed.keys() | answered.keys()):
        got, want = landed.get(key, []), answered.get(key, [])
        if got != want:
            counts, pairs = Counter(got), zip(dict.fromkeys(got), want, strict=False)
            found[key] = {
                "missing": [i for i in want if i not in counts],
                "doubled": [i for i, n in counts.items() if n > 1],
                "first out of order": next((g for g, w in pairs if g != w), None),
            }
    return found


def failed(sends: list[asyncio.Future[Any]]) -> list[str]:
    """Describe the sends that did not end acknowledged."""
    return [
        repr(s.exception()) if s.done() else "pending"
        for s in sends
        if not s.done() or s.exception()
    ]


async def spool_depth(session: aiohttp.ClientSession, base: str) -> int:
    """Read the spool depth from /readyz."""
    async with session.get(f"{base}/readyz") as response:
        return int((await response.json())["spool_depth"])


def state(persistence: Persistence) -> dict[str, object]:
    """What the ingress's persistence looks like, for a failure message."""
    flights = persistence.in_flight.values()
    return {
        "depth": persistence.spool.depth,
        "in_flight": len(flights),
        "in_flight_done": sum(f.done() for f in flights),
        "failing": persistence.failing,
    }


@pytest.fixture
async def ingress(outage_settings: Settings) -> AsyncIterator[Ingress]:
    """The ingress in this process, producing to the second broker."""
    async with started(
        outage_settings, Seams(spool_dir=Path(outage_settings.ingress_spool_dir))
    ) as it:
        yield it


@pytest.fixture
async def in_process(ingress: Ingress) -> AsyncIterator[TestClient]:
    """A test client of the in-process ingress."""
    client = await client_of(ingress)
    yield client
    await client.close()


def persistence_of(ingress: Ingress) -> Persistence:
    """Return the started ingress's persistence."""
    assert ingress.intake is not None, "the ingress is not started"
    return ingress.intake.persistence


async def test_notifications_spooled_while_the_broker_is_down_arrive_in_order_once(
    broker: SecondBroker, outage_settings: Settings, ingress: Ingress, in_process: TestClient
) -> None:
    """Started with no broker: answers 200, reports degraded, then drains in order once up."""
    await broker.down()
    for index in range(24):
        body = notification(index)
        async with in_process.post(WEBHOOK_PATH, data=body, headers=signed(body)) as response:
            assert response.status == 200
    async with in_process.get("/readyz") as response:
        assert (await response.json())["status"] == "degraded"
    async with in_process.get("/metrics") as response:
        assert "ingress_spool_depth 24.0" in await response.text()
    await broker_up(broker, outage_settings)
    await until(lambda: persistence_of(ingress).spool.depth == 0, "drain", 60)
    records = await consume(broker.address, outage_settings.topic_notifications, 24)
    assert sent_ids_by_key(records) == expected_by_key(list(range(24)))
    assert {r.value for r in records} == {notification(i) for i in range(24)}


async def test_spool_left_by_a_killed_ingress_is_drained_by_the_next_start(
    broker: SecondBroker, outage_settings: Settings, tmp_path: Path
) -> None:
    """kill -9 with a non-empty spool loses nothing: the next start drains it; SIGTERM exits 0."""
    await broker.down()
    base = f"http://127.0.0.1:{outage_settings.ingress_port}"
    first = Process("ingress", outage_settings, tmp_path / "first.log").start()
    try:
        await first.wait_http(outage_settings.ingress_port, "/readyz")
        async with aiohttp.ClientSession() as session:
            for index in range(12):
                body = notification(index)
                async with session.post(
                    base + WEBHOOK_PATH, data=body, headers=signed(body)
                ) as response:
                    assert response.status == 200, first.log_tail()
            assert await spool_depth(session, base) == 12
    finally:
        first.kill(signal.SIGKILL)
    await broker_up(broker, outage_settings)
    second = Process("ingress", outage_settings, tmp_path / "second.log").start()
    try:
        records = await consume(broker.address, outage_settings.topic_notifications, 12)
        assert sent_ids_by_key(records) == expected_by_key(list(range(12)))
        assert {r.value for r in records} == {notification(i) for i in range(12)}
    finally:
        second.kill(signal.SIGTERM)
    assert second.proc is not None
    assert second.proc.returncode == 0, second.log_tail()


async def test_steady_load_through_a_broker_restart_is_answered_and_lands_once(
    broker: SecondBroker, outage_settings: Settings, ingress: Ingress, in_process: TestClient
) -> None:
    """Under load, a 60 s broker outage costs no 5xx and no lost or doubled record.

    60 s is the issue's must-show and longer than the drainer's stall period. A send in flight as
    the broker stops may be written without its acknowledgement reaching the producer: it must be
    retried by librdkafka until the broker is back (which drops the repeat), never failed and
    sent again from the spool, which doubled such a record.
    """
    await broker_up(broker, outage_settings)
    counter, statuses, stop = itertools.count(), [], asyncio.Event()
    persistence = persistence_of(ingress)
    spool = persistence.spool

    async def worker(lane: int) -> None:
        while not stop.is_set():
            index = next(counter) * len(KEYS) + lane
            body = notification(index)
            async with in_process.post(WEBHOOK_PATH, data=body, headers=signed(body)) as reply:
                statuses.append((index, reply.status))
            await asyncio.sleep(0.02)  # pacing of the load, not synchronisation

    workers = [asyncio.create_task(worker(lane)) for lane in range(len(KEYS))]
    try:
        await until(lambda: len(statuses) >= 40, "load before the outage")
        started = time.monotonic()
        await broker.down()
        await until(lambda: bool(persistence.in_flight), "a send in flight through the outage")
        sends = list(persistence.in_flight.values())
        await until(
            lambda: time.monotonic() - started >= OUTAGE_SECONDS and spool.depth >= 100,
            f"{OUTAGE_SECONDS} s of load with the broker down",
            OUTAGE_SECONDS + 30,
        )
        await broker.up()
        await until(lambda: spool.depth == 0, "the spool to drain", 60, lambda: state(persistence))
        count = len(statuses)
        await until(lambda: len(statuses) >= count + 40, "load after the outage")
        assert time.monotonic() - started < OUTAGE_SECONDS + 40
    finally:
        stop.set()
        await asyncio.gather(*workers)
    assert {status for _, status in statuses} == {200}
    assert not failed(sends), f"sends failed during the outage: {failed(sends)}"
    records = await consume_all(broker.address, outage_settings.topic_notifications)
    landed = sent_ids_by_key(records)
    answered = expected_by_key(sorted(index for index, _ in statuses))
    assert not differences(landed, answered), f"per-key landing: {differences(landed, answered)}"
