"""The webhook endpoint: check the request, verify over the raw bytes, make it durable, answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import hdrs, web

from ingress import envelope
from ingress.metrics import Metrics
from ingress.persistence import Persistence
from ingress.records import dead_letter_record, notification_record
from intercom_stream import signature
from intercom_stream.errors import PoisonMessageError, SignatureError

log = structlog.get_logger("ingress.webhook")
ACCEPTED = b'{"status":"accepted"}'
DEAD_LETTERED = b'{"status":"dead-lettered"}'


@dataclass(frozen=True)
class Intake:
    """What the webhook needs: secrets, limits, topics, persistence, metrics and a clock."""

    secrets: tuple[bytes, ...]
    instance_id: str
    max_body_bytes: int
    notifications_topic: str
    dead_letter_topic: str
    persistence: Persistence
    metrics: Metrics
    clock: Callable[[], float] = time.time
    # Bound when the intake is built (after logging is configured): the module's lazy proxy
    # costs a lookup on every call, and a produced notification is logged on every request.
    log: Any = field(default_factory=lambda: structlog.get_logger("ingress.webhook").bind())


async def head(_: web.BaseRequest, __: str) -> web.Response:
    """Answer Intercom's URL validation."""
    return web.Response(status=200)


def require_json(request: web.BaseRequest) -> None:
    """Refuse a body that is not declared as JSON with 415."""
    if request.headers.get(hdrs.CONTENT_TYPE) == "application/json":
        return
    media_type = request.content_type
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise web.HTTPUnsupportedMediaType(
            text=f"Content-Type must be application/json, got {media_type}"
        )


async def read_body(request: web.BaseRequest, limit: int) -> bytes:
    """Read the body, refusing with 413 as soon as it exceeds the limit (never buffering more)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
    if declared == 0:
        return b""
    if declared is not None:
        try:
            return await request.content.readexactly(declared)
        except asyncio.IncompleteReadError as exc:
            raise web.HTTPBadRequest(text="body shorter than its Content-Length") from exc
    return await _read_chunked(request, limit)


async def _read_chunked(request: web.BaseRequest, limit: int) -> bytes:
    """Read a body of undeclared length, refusing with 413 once it passes the limit."""
    chunks, size = [], 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
    return b"".join(chunks)


def verify(intake: Intake, values: list[str], body: bytes) -> None:
    """Verify the signature, counting a failure before raising SignatureError."""
    try:
        signature.verify(values, body, intake.secrets)
    except SignatureError:
        intake.metrics.signature_failures.inc()
        raise


async def receive(intake: Intake, request: web.BaseRequest, ident: str) -> web.Response:
    """Verify, persist and acknowledge one Intercom notification."""
    require_json(request)
    body = await read_body(request, intake.max_body_bytes)
    values = request.headers.getall(signature.HEADER, [])
    verify(intake, values, body)
    received_at_ms = int(intake.clock() * 1000)
    try:
        parsed = envelope.parse(body)
    except PoisonMessageError as exc:
        return await _dead_letter(intake, ident, body, exc, values[0], received_at_ms)
    record = notification_record(
        intake.notifications_topic, parsed, body, values[0], received_at_ms, intake.instance_id
    )
    outcome = await intake.persistence.persist(record)
    return _accepted(intake, ident, parsed, outcome)


async def _dead_letter(
    intake: Intake, ident: str, body: bytes, error: Exception, signed: str, received_at_ms: int
) -> web.Response:
    """Make a signed non-envelope's dead letter durable and acknowledge, so it is not resent."""
    record = dead_letter_record(
        intake.dead_letter_topic, body, error, signed, received_at_ms, intake.instance_id
    )
    outcome = await intake.persistence.persist(record)
    intake.metrics.outcomes.inc("dead_lettered")
    log.warning(
        "notification.dead_lettered", request_id=ident, reason="not an Intercom envelope",
        bytes=len(body), outcome=outcome,
    )  # fmt: skip
    return web.Response(body=DEAD_LETTERED, content_type="application/json")


def _accepted(intake: Intake, ident: str, parsed: envelope.Envelope, outcome: str) -> web.Response:
    """Count and log the accepted notification (debug when produced, else info); answer 200."""
    intake.metrics.outcomes.inc(outcome)
    level = intake.log.debug if outcome == "produced" and not parsed.is_ping else intake.log.info
    level(
        "notification.accepted", request_id=ident, notification_id=parsed.notification_id,
        intercom_topic=parsed.topic, key=parsed.key, outcome=outcome,
    )  # fmt: skip
    return web.Response(body=ACCEPTED, content_type="application/json")
