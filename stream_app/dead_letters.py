"""Builds dead letters from failed records and writes them durably."""

from __future__ import annotations

import os
import traceback
from collections.abc import Awaitable, Callable
from typing import NoReturn

import structlog

from schemas import DeadLetter, RecordHeader
from schemas.dead_letter import Stage, kafka_headers
from stream_app.errors import DeadLetterWriteError
from stream_app.source import Source

Headers = list[tuple[str, bytes]]
# Sends one dead letter (key, JSON body, Spring/Connect-style headers) and waits for the ack.
DeadLetterSend = Callable[[bytes | None, bytes, Headers], Awaitable[None]]
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


def dead_letter_headers(letter: DeadLetter, error: BaseException | None = None) -> Headers:
    """Return the Spring/Connect-style headers of the dead letter, with the error's details."""
    fqcn = f"{type(error).__module__}.{type(error).__qualname__}" if error else None
    status = getattr(error, "status", None)
    request_id = getattr(error, "request_id", None)
    return kafka_headers(
        letter,
        fqcn=fqcn,
        status=status if isinstance(status, int) else None,
        request_id=request_id if isinstance(request_id, str) else None,
    )


async def write_dead_letter(
    send: DeadLetterSend, letter: DeadLetter, headers: Headers | None = None
) -> None:
    """Send the dead letter with its headers and wait for the ack; raise DeadLetterWriteError."""
    key, value = letter.source_key, letter.model_dump_json().encode()
    try:
        await send(key, value, headers or dead_letter_headers(letter))
    except Exception as exc:
        raise DeadLetterWriteError(f"dead-letter write failed: {exc!r}") from exc


def stop_consuming(exc: BaseException) -> NoReturn:
    """Exit at once, so no offset past an unfinished record is ever committed."""
    log.critical("worker.stopping", reason="a record could not be finished", error=repr(exc))
    os._exit(EXIT_DEAD_LETTER_FAILED)
