"""The no-loss ledger: every 2xx notification and every command accounted for exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from dev.fakes.intercom import FakeIntercom
from intercom_stream.settings import Settings
from intercom_stream.topics import writer_app_id
from schemas import DeadLetter
from tests.reliability.load import Posting


@dataclass
class Tally:
    """What the topics show so far: handled notification ids, dead letters, command records."""

    settings: Settings
    handled: set[str] = field(default_factory=set)
    letters: list[DeadLetter] = field(default_factory=list)
    commands: Counter[str] = field(default_factory=Counter)
    _task: asyncio.Task[None] | None = None

    def topics(self) -> list[str]:
        """Return the topics this tally reads."""
        s = self.settings
        return [
            s.topic_events_conversations,
            s.topic_events_contacts,
            s.topic_dead_letter,
            s.topic_commands,
        ]

    async def start(self) -> None:
        """Start reading every topic from its beginning in the background."""
        consumer = AIOKafkaConsumer(
            *self.topics(),
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        self._task = asyncio.create_task(self._read(consumer))

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        """Fold every record into the tally until cancelled."""
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        self._fold(record)
        finally:
            await consumer.stop()

    def _fold(self, record: Any) -> None:
        """Account for one record by its topic."""
        s = self.settings
        if record.topic == s.topic_dead_letter:
            self.letters.append(DeadLetter.model_validate_json(record.value))
        elif record.topic == s.topic_commands:
            self.commands[orjson.loads(record.value)["command_id"]] += 1
        else:
            self.handled.add(orjson.loads(record.value)["notification_id"])

    def dead_notifications(self) -> dict[str, DeadLetter]:
        """Return dead letters of notifications, by notification id (or raw body for non-JSON)."""
        found: dict[str, DeadLetter] = {}
        for letter in self.letters:
            if letter.stage in ("ingress", "verify", "parse", "handler"):
                found[payload_id(letter.payload, "id")] = letter
        return found

    def dead_commands(self) -> dict[str, DeadLetter]:
        """Return dead letters of commands, by command id."""
        return {
            payload_id(letter.payload, "command_id"): letter
            for letter in self.letters
            if letter.stage in ("validate", "writer")
        }


def payload_id(payload: bytes, name: str) -> str:
    """Return the named id of a JSON payload, else the payload itself as text."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode(errors="replace")
    found = value.get(name) if isinstance(value, dict) else None
    return str(found) if found is not None else payload.decode(errors="replace")


def key_of(posting: Posting) -> str:
    """Return how the tally names a posting: its notification id, else its raw body."""
    return posting.notification_id or posting.body.decode(errors="replace")


@dataclass
class Account:
    """The outcome of a scenario, from the load's 2xx answers, the topics and the fake's calls."""

    posted: int
    notifications: int
    handled: int
    redelivered: int
    dead_notifications: dict[str, str]
    lost_notifications: list[str]
    commands_expected: int
    accepted: int
    dead_commands: dict[str, str]
    lost_commands: list[str]
    sent_twice: dict[str, int]
    command_records: int

    @property
    def lost(self) -> int:
        """Return notifications plus commands not accounted for."""
        return len(self.lost_notifications) + len(self.lost_commands)

    def brief(self) -> str:
        """Return a one-paragraph description for failure messages."""
        return (
            f"posted {self.posted} ({self.notifications} distinct, {self.redelivered} redelivered),"
            f" handled {self.handled}, dead {len(self.dead_notifications)},"
            f" lost {self.lost_notifications[:5]} ({len(self.lost_notifications)});"
            f" commands expected {self.commands_expected}, records {self.command_records},"
            f" accepted {self.accepted}, dead {len(self.dead_commands)},"
            f" lost {self.lost_commands[:5]} ({len(self.lost_commands)}),"
            f" sent twice {len(self.sent_twice)}"
        )


def account(ok: list[Posting], tally: Tally, fake: FakeIntercom) -> Account:
    """Account for every 2xx posting and every command it implies."""
    distinct = {key_of(p): p for p in ok}
    dead = tally.dead_notifications()
    lost = sorted(k for k in distinct if k not in tally.handled and k not in dead)
    expected = {cid for p in distinct.values() if (cid := p.command_id) is not None}
    accepted = fake.accepted()
    dead_commands = tally.dead_commands()
    return Account(
        posted=len(ok),
        notifications=len(distinct),
        handled=len(tally.handled & distinct.keys()),
        redelivered=len(ok) - len(distinct),
        dead_notifications={k: f"{v.stage}: {v.reason}" for k, v in dead.items()},
        lost_notifications=lost,
        commands_expected=len(expected),
        accepted=len(expected & accepted.keys()),
        dead_commands={k: f"{v.stage}: {v.reason}" for k, v in dead_commands.items()},
        lost_commands=sorted(expected - accepted.keys() - dead_commands.keys()),
        sent_twice={k: n for k, n in accepted.items() if n > 1},
        command_records=sum(tally.commands.values()),
    )


async def committed_lag(settings: Settings) -> dict[str, int]:
    """Return how far the worker's and the writer's groups are from the ends of their topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    await consumer.start()
    try:
        lag: dict[str, int] = {}
        groups = {
            settings.worker_app_id: settings.topic_notifications,
            writer_app_id(settings): settings.topic_commands,
        }
        for group, topic in groups.items():
            parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
            ends = await consumer.end_offsets(parts)
            offsets = await admin.list_consumer_group_offsets(group, partitions=parts)
            done = {tp: meta.offset for tp, meta in offsets.items() if meta is not None}
            lag[group] = sum(end - max(0, done.get(tp, 0)) for tp, end in ends.items())
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def wait_for(
    check: Callable[[], bool], timeout: float, what: Callable[[], str], every: float = 0.5
) -> None:
    """Poll `check` until it holds; fail after `timeout` seconds with `what()`."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                if check():
                    return
                await asyncio.sleep(every)  # polling interval; the timeout bounds the wait
    except TimeoutError:
        raise AssertionError(f"not within {timeout:.0f}s: {what()}") from None
