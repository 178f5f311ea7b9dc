"""The writer in a real worker process, on the real broker, against the fake Intercom."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import aiohttp
import orjson
import pytest

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from schemas import DeadLetter
from schemas.commands import CreateDataEvent, command_record
from tests.stream_app.writer.conftest import make_command
from tests.support.kafka import consume, consume_all, produce

pytestmark = pytest.mark.integration


async def until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: Callable[[], str]
) -> None:
    """Poll `check` every 0.1 s; fail with `what()` if it is not true within `timeout`."""
    for _ in range(int(timeout * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)  # polling interval; the loop bounds the wait
    raise AssertionError(what())


async def publish(settings: Settings, commands: list[CreateDataEvent]) -> None:
    """Produce the commands to the command topic, keyed by contact."""
    await produce(
        settings.kafka_bootstrap_servers,
        settings.topic_commands,
        [command_record(c) for c in commands],
    )


async def dead_letters(settings: Settings, count: int) -> list[DeadLetter]:
    """Read exactly `count` dead letters (or fail), then check there are no more."""
    records = await consume(settings.kafka_bootstrap_servers, settings.topic_dead_letter, count)
    everything = await consume_all(settings.kafka_bootstrap_servers, settings.topic_dead_letter)
    assert len(everything) == count, [r.value[:200] for r in everything]
    return [DeadLetter.model_validate_json(r.value) for r in records]


def assert_contact_order(fake: FakeIntercom, commands: list[CreateDataEvent]) -> None:
    """Check that each contact's commands were first accepted in the order they were published."""
    sent = [call.command_id for call in fake.calls if call.status == 202]
    for contact in {c.event.user_id for c in commands}:
        mine = [c.command_id for c in commands if c.event.user_id == contact]
        assert [i for i in sent if i in mine][: len(mine)] == mine, contact


def contacts_batch(contacts: int, per_contact: int, prefix: str) -> Iterator[CreateDataEvent]:
    """Yield commands round-robin over contacts, so each contact's commands interleave."""
    for round_ in range(per_contact):
        for contact in range(contacts):
            yield make_command(f"{prefix}-{contact}", event={"created_at": 1_763_700_000 + round_})


async def test_each_command_is_accepted_once_in_contact_order(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """Redeliveries are skipped, a forced one is sent again, an invalid one is dead-lettered."""
    commands = list(contacts_batch(contacts=8, per_contact=5, prefix="order"))
    forced = commands[0].model_copy(update={"force": True})
    await publish(writer_settings, commands + commands[:5] + [forced])
    invalid = orjson.dumps({"kind": "data_event.create", "command_id": "bad", "source": "t"})
    await produce(
        writer_settings.kafka_bootstrap_servers,
        writer_settings.topic_commands,
        [(b"k", invalid, [])],
    )

    async def done() -> bool:
        return sum(fake.accepted().values()) >= len(commands) + 1

    await until(done, 60, lambda: f"accepted {fake.accepted()}\n{worker.log_tail()}")
    [letter] = await dead_letters(writer_settings, 1)
    assert (letter.stage, letter.payload) == ("validate", invalid)
    expected = {c.command_id: 1 for c in commands} | {forced.command_id: 2}
    assert fake.accepted() == expected
    assert_contact_order(fake, commands)


async def test_server_errors_429_storm_and_unknown_users_lose_nothing(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """Each command is accepted once or dead-lettered with a reason; none lost, none doubled."""
    fake.faults.server_errors = 12
    fake.faults.rate_limit_storm = 3
    fake.faults.unknown_users.add("ghost-0")
    commands = list(contacts_batch(contacts=6, per_contact=5, prefix="storm"))
    commands += [make_command("ghost-0"), make_command("ghost-0")]
    await publish(writer_settings, commands)
    letters: list[DeadLetter] = []

    async def settled() -> bool:
        letters[:] = [
            DeadLetter.model_validate_json(r.value)
            for r in await consume_all(
                writer_settings.kafka_bootstrap_servers, writer_settings.topic_dead_letter, idle=0.2
            )
        ]
        return len(fake.accepted()) + len(letters) >= len(commands)

    await until(settled, 90, lambda: f"{fake.statuses()} {len(letters)}\n{worker.log_tail()}")
    dead = {orjson.loads(letter.payload)["command_id"]: letter for letter in letters}
    assert max(fake.accepted().values()) == 1
    assert set(fake.accepted()) | set(dead) == {c.command_id for c in commands}
    assert not set(fake.accepted()) & set(dead)
    assert all(letter.stage == "writer" and letter.reason for letter in dead.values())
    assert {c.command_id for c in commands[-2:]} <= set(dead)
    assert fake.statuses()[429] >= 3


async def test_401_keeps_commands_reports_unhealthy_and_resumes_with_a_good_token(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """A refused token dead-letters nothing and stops sending; a fixed token resumes delivery."""
    fake.token = "rotated-token"
    commands = list(contacts_batch(contacts=3, per_contact=2, prefix="auth"))
    await publish(writer_settings, commands)
    health = f"http://127.0.0.1:{writer_settings.writer_web_port}/writer/health"
    async with aiohttp.ClientSession() as session:

        async def unhealthy() -> bool:
            async with session.get(health) as response:
                return response.status == 503

        await until(unhealthy, 60, lambda: f"never unhealthy\n{worker.log_tail()}")
        async with session.get(health.replace("health", "metrics")) as response:
            assert "intercom_writer_healthy 0.0" in await response.text()
        await asyncio.sleep(1.0)  # let the prober try a few more times while refused
        assert fake.accepted() == {}
        assert (
            await consume_all(
                writer_settings.kafka_bootstrap_servers, writer_settings.topic_dead_letter
            )
            == []
        )
        fake.token = DEFAULT_TOKEN

        async def delivered() -> bool:
            return len(fake.accepted()) == len(commands)

        await until(delivered, 30, lambda: f"{fake.accepted()}\n{worker.log_tail()}")
        async with session.get(health) as response:
            assert response.status == 200
    assert set(fake.accepted().values()) == {1}
