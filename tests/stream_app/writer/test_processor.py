"""One command record end to end without Kafka: ledger, force, dead letters and their reasons."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas import DeadLetter
from schemas.commands import FORCE_HEADER, command_bytes
from stream_app.source import Source
from stream_app.writer.errors import WriterError
from stream_app.writer.ledger import Ledger
from stream_app.writer.limiter import RateLimiter
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.processor import CommandProcessor, parse
from stream_app.writer.sender import Backoff, Sender
from tests.fakes.clock import FakeClock
from tests.stream_app.writer.conftest import make_command, make_health
from tests.stream_app.writer.test_sender import ScriptedIntercom, failure


class Harness:
    """A processor over a scripted Intercom, a dict ledger and a list of dead letters."""

    def __init__(self, clock: FakeClock, script: list[WriterError | None]) -> None:
        """Wire the processor."""
        self.intercom = ScriptedIntercom(clock, script)
        self.ledger: dict[str, object] = {}
        self.letters: list[DeadLetter] = []
        limiter = RateLimiter(600, clock=clock, sleep=clock.sleep)
        health = make_health(clock)
        sender = Sender(
            self.intercom, limiter, health, Backoff(2, 1.0), WriterMetrics(), clock.sleep, clock
        )
        ledger = Ledger(self.ledger, ttl_seconds=3600, clock=clock)
        self.processor = CommandProcessor(sender, ledger, self.send, WriterMetrics(), clock=clock)

    async def send(self, key: bytes | None, value: bytes, headers: Any = ()) -> None:
        """Collect a dead letter."""
        self.letters.append(DeadLetter.model_validate_json(value))

    async def handle(self, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()) -> None:
        """Process one record as the agent does."""
        source = Source("commands", 0, 7, b"user_id:u-1", value, headers, 1_763_700_000_000)
        parsed = parse(source)
        if isinstance(parsed, ValidationError):
            await self.processor.reject(source, parsed)
        else:
            await self.processor.process(source, parsed)


async def test_accepted_command_is_recorded_and_a_redelivery_is_not_sent(clock: FakeClock) -> None:
    """The ledger keeps the id; the same command again makes no call."""
    harness, command = Harness(clock, []), make_command()
    await harness.handle(command_bytes(command))
    await harness.handle(command_bytes(command))
    assert [c for c, _ in harness.intercom.calls] == [command.command_id]
    assert command.command_id in harness.ledger


@pytest.mark.parametrize("how", ["flag", "header"])
async def test_forced_command_is_sent_again(clock: FakeClock, how: str) -> None:
    """A force flag on the command, or the force header, overrides the ledger."""
    harness, command = Harness(clock, []), make_command()
    await harness.handle(command_bytes(command))
    again = command.model_copy(update={"force": how == "flag"})
    headers = ((FORCE_HEADER, b"true"),) if how == "header" else ()
    await harness.handle(command_bytes(again), headers)
    assert len(harness.intercom.calls) == 2


async def test_invalid_command_is_dead_lettered_at_validate_and_never_sent(
    clock: FakeClock,
) -> None:
    """The validation errors travel in the dead letter with the original bytes."""
    harness = Harness(clock, [])
    value = orjson.dumps({"kind": "data_event.create", "command_id": "x"})
    await harness.handle(value)
    [letter] = harness.letters
    assert (letter.stage, letter.payload, letter.source_offset) == ("validate", value, 7)
    assert "source" in letter.error_message
    assert harness.intercom.calls == []


async def test_404_is_dead_lettered_at_once_with_intercom_body(clock: FakeClock) -> None:
    """The reason names the status and Intercom's request id; nothing enters the ledger."""
    harness = Harness(clock, [failure(404)])
    await harness.handle(command_bytes(make_command()))
    [letter] = harness.letters
    assert letter.stage == "writer"
    assert letter.attempts == 1
    assert "HTTP 404" in letter.reason
    assert "req-404" in letter.error_message
    assert harness.ledger == {}


async def test_exhausted_retries_are_dead_lettered_with_the_attempts(clock: FakeClock) -> None:
    """Two 500s with two attempts allowed, while another call succeeded, end in a dead letter."""
    harness = Harness(clock, [None, failure(500), failure(500)])
    await harness.handle(command_bytes(make_command("u-2")))
    await harness.handle(command_bytes(make_command()))
    [letter] = harness.letters
    assert (letter.stage, letter.attempts, letter.error_type) == ("writer", 2, "ServerError")
    assert letter.reason.startswith("Intercom refused data_event.create")


async def test_an_accepted_id_is_recorded_with_its_partition_and_forgotten_after_the_ttl(
    clock: FakeClock,
) -> None:
    """The ledger value is [accept ms, partition]; once the TTL has passed the id is sent again."""
    harness, command = Harness(clock, []), make_command()
    await harness.handle(command_bytes(command))
    assert harness.ledger[command.command_id] == [int(clock() * 1000), 0]
    clock.advance(3600)
    await harness.handle(command_bytes(command))
    assert len(harness.intercom.calls) == 2
