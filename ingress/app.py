"""Builds the ingress aiohttp application with its Kafka producer lifecycle."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from ingress.webhook import INTAKE, Intake, head, json_error, receive
from ingress.writer import KafkaWriter, durable_producer
from intercom_stream.errors import SignatureError
from intercom_stream.settings import Settings

WEBHOOK_PATH = "/webhooks/intercom"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer signature failures with 401 and HTTP errors with a JSON body."""
    try:
        return await handler(request)
    except SignatureError as exc:
        return json_error(401, "invalid_signature", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)


def instance_id(settings: Settings) -> str:
    """Return the configured instance id, else host name plus a short random suffix."""
    return settings.ingress_instance_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"


def producer_context(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """Return a cleanup context that starts the producer and flushes it on shutdown."""
    secrets = settings.client_secrets()

    async def context(app: web.Application) -> AsyncIterator[None]:
        ident = instance_id(settings)
        producer = durable_producer(settings.bootstrap_servers(), f"ingress-{ident}")
        await producer.start()
        app[INTAKE] = Intake(
            secrets=secrets,
            instance_id=ident,
            max_body_bytes=settings.ingress_max_body_bytes,
            notifications=KafkaWriter(producer, settings.topic_notifications),
            dead_letters=KafkaWriter(producer, settings.topic_dead_letter),
        )
        yield
        await producer.stop()

    return context


def create_app(settings: Settings) -> web.Application:
    """Return the ingress application; fails closed when no client secret is configured."""
    app = web.Application(
        middlewares=[errors_as_json], client_max_size=settings.ingress_max_body_bytes
    )
    app.cleanup_ctx.append(producer_context(settings))
    app.router.add_post(WEBHOOK_PATH, receive)
    app.router.add_route("HEAD", WEBHOOK_PATH, head)
    return app
