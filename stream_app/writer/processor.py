"""Turns one command record into its accepted Intercom calls (recorded once), or a dead letter."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog
from pydantic import ValidationError

from intercom_stream.errors import AttemptsExhaustedError
from schemas.commands import FORCE_HEADER, AnyCommand, parse_command
from schemas.dead_letter import Stage
from stream_app.dead_letters import (
    DeadLetterSend,
    dead_letter,
    dead_letter_headers,
    write_dead_letter,
)
from stream_app.source import Source
from stream_app.writer.cache import Caches
from stream_app.writer.claims import Claims
from stream_app.writer.errors import OutageOutlastedError
from stream_app.writer.executor import Executor
from stream_app.writer.ledger import Ledger
from stream_app.writer.metrics import WriterMetrics
from stream_app.writer.sender import Sender

log = structlog.get_logger("stream_app.writer.processor")
TRUE_VALUES = (b"1", b"true", b"yes")


def parse(source: Source) -> AnyCommand | ValidationError:
    """Return the validated command, or the validation error."""
    try:
        return parse_command(source.value)
    except ValidationError as exc:
        return exc


def forced(source: Source, command: AnyCommand) -> bool:
    """Whether the command must be sent even if the ledger has it."""
    flag = (source.header(FORCE_HEADER) or b"").strip().lower()
    return command.force or flag in TRUE_VALUES


class CommandProcessor:
    """Validates, deduplicates against the ledger, delivers and dead-letters commands."""

    def __init__(
        self,
        sender: Sender,
        ledger: Ledger,
        send_dead_letter: DeadLetterSend,
        metrics: WriterMetrics,
        clock: Callable[[], float] = time.time,
        caches: Caches | None = None,
        progress: MutableMapping[str, Any] | None = None,
        claims: Claims | None = None,
    ) -> None:
        """Keep the collaborators; the ledger holds the ids Intercom accepted.

        `claims` is shared with the other lane's processor, so one id is never sent by both.
        """
        self._executor = Executor(sender, caches or Caches(), {} if progress is None else progress)
        self._ledger = ledger
        self._send_dead_letter = send_dead_letter
        self._metrics = metrics
        self._clock = clock
        self._claims = claims or Claims()

    async def reject(self, source: Source, error: ValidationError) -> None:
        """Dead-letter an invalid command with its validation errors; it is never sent."""
        reason = f"invalid command: {error.error_count()} validation error(s)"
        await self._dead_letter(source, "validate", reason, error, 0)

    async def process(self, source: Source, command: AnyCommand) -> None:
        """Send a valid command once; only DeadLetterWriteError (and cancellation) escape."""
        async with self._claims.hold(command.command_id):
            await self._process(source, command)

    async def _process(self, source: Source, command: AnyCommand) -> None:
        """Skip the command if the ledger has it (unless forced), else send it or dead-letter it."""
        self._tidy(source.partition)
        force = forced(source, command)
        if command.command_id in self._ledger and not force:
            self._metrics.finished(source, "duplicate")
            log.info("command.duplicate", command_id=command.command_id, offset=source.offset)
            return
        for warning in command.style_warnings():
            log.warning("command.style", command_id=command.command_id, advice=warning)
        try:
            attempts = await self._executor.run(command, force)
        except AttemptsExhaustedError as failed:
            reason = f"Intercom refused {command.kind}: {failed.error}"
            if isinstance(failed, OutageOutlastedError):
                reason = f"Intercom failing for longer than the outage horizon: {failed.error}"
            await self._dead_letter(source, "writer", reason, failed.error, failed.attempts)
            return
        except Exception as exc:  # noqa: BLE001 - an unforeseen bug must not lose the command
            await self._dead_letter(source, "writer", "unexpected writer failure", exc, 1)
            return
        self._accepted(source, command, attempts)

    def _accepted(self, source: Source, command: AnyCommand, attempts: int) -> None:
        """Record the success in the ledger and the metrics."""
        now = self._clock()
        try:
            self._ledger.record(command.command_id, source.partition)
        except Exception:  # Intercom accepted it; at worst a replay sends it again
            log.exception("ledger.write_failed", command_id=command.command_id)
        self._metrics.finished(source, "accepted", attempts)
        if source.timestamp_ms:
            self._metrics.latency.observe(max(0.0, now - source.timestamp_ms / 1000))
        log.debug("command.accepted", command_id=command.command_id, attempts=attempts)

    def _tidy(self, partition: int) -> None:
        """Remove some expired ledger entries of the partition (never failing the command)."""
        try:
            evicted = self._ledger.tidy(partition)
        except Exception:  # retention is housekeeping: the command comes first
            log.exception("ledger.tidy_failed", partition=partition)
            return
        if evicted:
            self._metrics.ledger_evicted.inc(evicted)
            log.debug("ledger.evicted", partition=partition, entries=evicted)

    async def _dead_letter(
        self, source: Source, stage: Stage, reason: str, error: BaseException, attempts: int
    ) -> None:
        """Write the record to the dead-letter topic and count it."""
        letter = dead_letter(source, stage, reason, error, attempts, int(self._clock() * 1000))
        await write_dead_letter(self._send_dead_letter, letter, dead_letter_headers(letter, error))
        self._metrics.finished(source, "dead_lettered", attempts)
        log.warning(
            "command.dead_lettered",
            stage=stage,
            reason=reason,
            attempts=attempts,
            partition=source.partition,
            offset=source.offset,
        )
