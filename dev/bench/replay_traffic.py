"""The replay benchmark's traffic and what it reads: notifications, commands, metrics, calls."""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from dev.bench.notifications import record
from intercom_stream.settings import Settings
from schemas.commands import COMMAND_ID_RECORD_HEADER
from stream_app.rules import command_id

LIVE_RATE = float(os.environ.get("BENCH_LIVE_RATE", "100"))
RULE = "conversation-closed"  # the rule dev/bench/notifications.py's records match


class Timings:
    """When each live notification was produced, its command seen on Kafka and accepted."""

    def __init__(self) -> None:
        """Start with nothing produced."""
        self.produced: dict[str, float] = {}  # command id -> produce time (s)
        self.on_kafka: dict[str, float] = {}  # command id -> when a consumer first read it (s)
        self.stamped: dict[str, float] = {}  # command id -> the command record's timestamp (s)

    def dump(self, path: Path, phases: dict[str, list[str]], accepted: dict[str, float]) -> None:
        """Write a CSV line per live command: phase, produced, to stamped, readable, accepted.

        `stamped_s` is the command record's timestamp (when the worker handed it to its
        producer), so the rest of `command_topic_s` is the producer, the broker and the read.
        """
        with path.open("w") as out:
            out.write("phase,produced,stamped_s,command_topic_s,accepted_s\n")
            for phase, ids in phases.items():
                for i in ids:
                    t, stamped = self.produced[i], self.stamped.get(i, math.inf)
                    kafka, done = self.on_kafka.get(i, math.inf), accepted.get(i, math.inf)
                    out.write(f"{phase},{t:.3f},{stamped - t:.3f},{kafka - t:.3f},{done - t:.3f}\n")

    def quantile(self, ids: list[str], seen: dict[str, float], q: float) -> float:
        """Return the q-quantile latency of the ids (a missing one counts as infinite)."""
        lat = sorted(seen.get(i, float("inf")) - self.produced[i] for i in ids)
        return lat[max(0, int(len(lat) * q) - 1)]


async def produce_old(settings: Settings, count: int, base_ms: int) -> None:
    """Write `count` notifications with Kafka timestamps from base_ms, one ms apart."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(),
        acks="all",
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        sends = []
        for n in range(count):
            key, value, heads = record(n)
            sends.append(
                await producer.send(
                    settings.topic_notifications,
                    value,
                    key=key,
                    headers=heads,
                    timestamp_ms=base_ms + n,
                )
            )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def live(settings: Settings, timings: Timings, start: int, done: asyncio.Event) -> list[str]:
    """Produce live notifications at LIVE_RATE until `done` is set; return their command ids."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), acks="all")
    await producer.start()
    loop, ids, sends = asyncio.get_running_loop(), list[str](), list[Any]()
    try:
        begin = loop.time()
        while not done.is_set():
            n = start + len(ids)
            await asyncio.sleep(max(0.0, begin + len(ids) / LIVE_RATE - loop.time()))  # the pace
            key, value, heads = record(n)
            ids.append(command_id(f"notif-{n}", RULE))
            timings.produced[ids[-1]] = time.time()
            sends.append(
                await producer.send(settings.topic_notifications, value, key=key, headers=heads)
            )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return ids


def after(seconds: float) -> asyncio.Event:
    """Return an event set `seconds` from now."""
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, event.set)
    return event


async def watch_commands(settings: Settings, timings: Timings) -> None:
    """Record when each live command record can first be read (until cancelled).

    Not the record's timestamp: the worker stamps a record when it hands it to its producer,
    and under load the producer holds it well before the broker has it.
    """
    servers = settings.bootstrap_servers()
    consumer = AIOKafkaConsumer(
        settings.topic_commands,
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for rec in records:
                    cid = dict(rec.headers).get(COMMAND_ID_RECORD_HEADER, b"").decode()
                    timings.on_kafka.setdefault(cid, time.time())
                    timings.stamped.setdefault(cid, rec.timestamp / 1000)
    finally:
        await consumer.stop()


async def metric(url: str, name: str, **labels: str) -> float:
    """Return the sum of a metric's samples with the given labels (0 when not answering)."""
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            text = await response.text()
    except aiohttp.ClientError:
        return 0.0
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def fake_calls(fake_url: str) -> list[dict[str, Any]]:
    """Return every call the fake recorded."""
    async with aiohttp.ClientSession() as http, http.get(f"{fake_url}/_fake/calls") as response:
        calls: list[dict[str, Any]] = await response.json()
        return calls


async def until(check: Any, timeout: float, what: str, every: float = 0.2) -> None:
    """Poll the async check every `every` s; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)  # polling interval; the deadline bounds the wait


def accepted_times(calls: list[dict[str, Any]]) -> dict[str, float]:
    """Return when the fake first accepted each command id."""
    accepted_at: dict[str, float] = {}
    for call in calls:
        if call["status"] == 202 and call["command_id"]:
            accepted_at.setdefault(call["command_id"], call["at"])
    return accepted_at
