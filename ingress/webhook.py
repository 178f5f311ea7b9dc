"""The webhook endpoint: verify over the raw bytes, write durably, then answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from aiohttp import web
from pydantic import ValidationError

from ingress import signature
from ingress.records import ingress_dead_letter, notification_record
from ingress.writer import KafkaWriter

log = structlog.get_logger("ingress.webhook")


@dataclass(frozen=True)
class Intake:
    """What the webhook endpoint needs: secrets, limits, writers and a clock."""

    secrets: tuple[bytes, ...]
    instance_id: str
    max_body_bytes: int
    notifications: KafkaWriter
    dead_letters: KafkaWriter
    clock: Callable[[], float] = time.time


INTAKE = web.AppKey("intake", Intake)


def json_error(status: int, code: str, message: str) -> web.Response:
    """Return a JSON error response with a stable code and a human message."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def head(_: web.Request) -> web.Response:
    """Answer Intercom's URL validation."""
    return web.Response(status=200)


async def receive(request: web.Request) -> web.Response:
    """Verify, persist and acknowledge one Intercom notification."""
    intake = request.app[INTAKE]
    body = await request.read()
    values = request.headers.getall(signature.HEADER, [])
    signature.verify(values, body, intake.secrets)
    received_at_ms = int(intake.clock() * 1000)
    try:
        record = notification_record(body, values[0], received_at_ms, intake.instance_id)
    except ValidationError as exc:
        letter = ingress_dead_letter(body, exc, values[0], received_at_ms, received_at_ms)
        await intake.dead_letters.write(letter)
        log.warning("notification.dead_lettered", reason="not an envelope", bytes=len(body))
        return web.json_response({"status": "dead-lettered"})
    await intake.notifications.write(record)
    log.info("notification.accepted", key=record.key.decode(), bytes=len(body))
    return web.json_response({"status": "accepted"})
