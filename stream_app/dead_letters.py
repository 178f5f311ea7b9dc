"""Builds dead letters from failed records and writes them durably."""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Awaitable, Callable
from typing import NoReturn, cast

import structlog

from schemas import DeadLetter, RecordHeader
from schemas.dead_letter import Stage, kafka_headers
from stream_app.errors import DeadLetterWriteError
from stream_app.source import Source

Headers = list[tuple[str, bytes]]
# A sender of the record body only (the legacy shape), and one that also writes headers.
Send = Callable[[bytes | None, bytes], Awaitable[None]]
HeaderedSend = Callable[[bytes | None, bytes, Headers], Awaitable[None]]
DeadLetterSend = Send | HeaderedSend
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


def takes_headers(send: DeadLetterSend) -> bool:
    """Whether the sender accepts headers (a third positional parameter)."""
    try:
        parameters = inspect.signature(send).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: assume the legacy shape
        return False
    return sum(1 for p in parameters if p.kind in POSITIONAL) >= 3


POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


async def write_dead_letter(
    send: DeadLetterSend, letter: DeadLetter, headers: Headers | None = None
) -> None:
    """Send the dead letter (with headers when the sender takes them) and wait for the ack.

    Raises DeadLetterWriteError. A body-only sender still works: it writes the JSON body alone.
    """
    key, value = letter.source_key, letter.model_dump_json().encode()
    try:
        if takes_headers(send):
            await cast(HeaderedSend, send)(key, value, headers or dead_letter_headers(letter))
        else:
            await cast(Send, send)(key, value)
    except Exception as exc:
        raise DeadLetterWriteError(f"dead-letter write failed: {exc!r}") from exc


def stop_consuming(exc: BaseException) -> NoReturn:
    """Exit at once, so no offset past an unfinished record is ever committed."""
    log.critical("worker.stopping", reason="a record could not be finished", error=repr(exc))
    os._exit(EXIT_DEAD_LETTER_FAILED)
