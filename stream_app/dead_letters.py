"""Builds dead letters from failed records and writes them durably."""

from __future__ import annotations

import os
import traceback
from collections.abc import Awaitable, Callable
from typing import NoReturn

import structlog

from schemas import DeadLetter, RecordHeader
from schemas.dead_letter import Stage
from stream_app.errors import DeadLetterWriteError
from stream_app.source import Source

Send = Callable[[bytes | None, bytes], Awaitable[None]]
EXIT_DEAD_LETTER_FAILED = 70
log = structlog.get_logger("stream_app.dead_letters")


def dead_letter(
    source: Source, stage: Stage, reason: str, error: BaseException, attempts: int, now_ms: int
) -> DeadLetter:
    """Return the dead letter describing why this record failed, with the record itself."""
    summary = traceback.format_exception(error, limit=-8)
    return DeadLetter(
        stage=stage,
        reason=reason,
        error_type=type(error).__name__,
        error_message=str(error),
        traceback="".join(summary)[-4000:],
        attempts=attempts,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
        source_key=source.key,
        headers=tuple(RecordHeader(key=k, value=v) for k, v in source.headers),
        payload=source.value,
        received_at_ms=source.timestamp_ms,
        failed_at_ms=now_ms,
    )


async def write_dead_letter(send: Send, letter: DeadLetter) -> None:
    """Send the dead letter and wait for the acknowledgement, or raise DeadLetterWriteError."""
    try:
        await send(letter.source_key, letter.model_dump_json().encode())
    except Exception as exc:
        raise DeadLetterWriteError(f"dead-letter write failed: {exc!r}") from exc


def stop_consuming(exc: BaseException) -> NoReturn:
    """Exit at once, so no offset past an unfinished record is ever committed."""
    log.critical("worker.stopping", reason="a record could not be finished", error=repr(exc))
    os._exit(EXIT_DEAD_LETTER_FAILED)
