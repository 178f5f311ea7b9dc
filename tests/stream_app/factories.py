"""Builders of notifications, records and fake publishers shared by the stream core's unit tests."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from intercom_stream import samples
from intercom_stream.signature import sign
from schemas import Notification, headers
from stream_app.router import HandlerContext
from stream_app.sink import OutputSink
from stream_app.source import Source

SECRET = b"secret"
CREATED_AT = 1_763_700_000
UPDATED_AT = 1_763_700_500
NOTIFICATION_ID = "notif_0001"
CONVERSATION_ID = "215470312"
CONTACT_ID = "6643a1b2"


def conversation_item(
    conversation_id: str = CONVERSATION_ID,
    contact_id: str = CONTACT_ID,
    updated_at: int | None = UPDATED_AT,
    **fields: Any,
) -> dict[str, Any]:
    """Return a conversation item like Intercom's, with `fields` overriding its members."""
    item = samples.conversation_item(conversation_id, contact_id, updated_at or CREATED_AT)
    item["updated_at"] = updated_at
    item.update(fields)
    return item


def contact_item(contact_id: str = CONTACT_ID, role: str = "user", **fields: Any) -> dict[str, Any]:
    """Return a contact item like Intercom's, with `fields` overriding its members."""
    item: dict[str, Any] = {
        "type": "contact",
        "id": contact_id,
        "role": role,
        "email": "ada@example.com",
        "external_id": f"user-{contact_id}",
        "name": "Ada Lovelace",
        "created_at": CREATED_AT - 1000,
        "updated_at": UPDATED_AT,
        "custom_attributes": {"plan": "pro"},
    }
    item.update(fields)
    return item


def contact_tag_item(
    contact_id: str = CONTACT_ID, tag: str = "vip", created_at: int | None = UPDATED_AT
) -> dict[str, Any]:
    """Return a contact_tag item as the tag topics carry it."""
    return {
        "type": "contact_tag",
        "created_at": created_at,
        "tag": {"type": "tag", "id": "17", "name": tag},
        "contact": {"type": "contact", "id": contact_id, "external_id": f"user-{contact_id}"},
    }


def envelope(
    topic: str = "conversation.user.created",
    item: dict[str, Any] | None = None,
    notification_id: str | None = NOTIFICATION_ID,
    created_at: int = CREATED_AT,
) -> dict[str, Any]:
    """Return a notification envelope with a fixed id and creation time."""
    body = samples.notification(topic, item, "unused", created_at)
    body["id"] = notification_id
    if item is None:
        body["data"]["item"] = conversation_item()
    return body


def notification(
    topic: str = "conversation.user.created",
    item: dict[str, Any] | None = None,
    notification_id: str | None = NOTIFICATION_ID,
    created_at: int = CREATED_AT,
) -> Notification:
    """Return a parsed notification built by `envelope`."""
    return Notification.model_validate(envelope(topic, item, notification_id, created_at))


def context(topic: str, partition: int = 0, offset: int = 0) -> HandlerContext:
    """Return a handler context for a (canonical) topic."""
    return HandlerContext(topic=topic, key=b"key", partition=partition, offset=offset)


def record(
    body: dict[str, Any] | bytes,
    *,
    secret: bytes | None = SECRET,
    extra_headers: tuple[tuple[str, bytes], ...] = (),
    offset: int = 7,
) -> Source:
    """Return a consumed record carrying the body, signed with `secret` unless it is None."""
    value = body if isinstance(body, bytes) else orjson.dumps(body)
    found = [(headers.INTERCOM_TOPIC, b"conversation.user.created")]
    if secret is not None:
        found.append((headers.SIGNATURE, sign(value, secret).encode()))
    return Source(
        topic="intercom.notifications",
        partition=3,
        offset=offset,
        key=b"215470312",
        value=value,
        headers=(*found, *extra_headers),
        timestamp_ms=1_763_700_000_123,
    )


class FakePublisher:
    """Records every record it is asked to send and returns the future of its acknowledgement."""

    def __init__(self, resolved: bool = True) -> None:
        """Start with no sent records; `resolved=False` leaves the acks pending."""
        self.resolved = resolved
        self.error: Exception | None = None
        self.sent: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        self.futures: list[asyncio.Future[None]] = []

    async def __call__(
        self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        """Record the send and return its ack (done unless told otherwise), or raise `error`."""
        if self.error is not None:
            raise self.error
        self.sent.append((key, value, headers))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.resolved:
            future.set_result(None)
        self.futures.append(future)
        return future

    def values(self) -> list[Any]:
        """Return the sent values decoded from JSON."""
        return [orjson.loads(value) for _, value, _ in self.sent]

    def keys(self) -> list[bytes]:
        """Return the keys of the sent records."""
        return [key for key, _, _ in self.sent]


class Destinations:
    """Fake publishers and dict tables behind one OutputSink."""

    def __init__(self, resolved: bool = True) -> None:
        """Create the fakes and the sink over them."""
        self.commands = FakePublisher(resolved)
        self.conversation_events = FakePublisher(resolved)
        self.contact_events = FakePublisher(resolved)
        self.conversations: dict[str, Any] = {}
        self.contacts: dict[str, Any] = {}
        self.sink = OutputSink(
            commands=self.commands,
            events={"conversations": self.conversation_events, "contacts": self.contact_events},
            conversations=self.conversations,
            contacts=self.contacts,
        )


class RecordingLog:
    """Stands in for a structlog logger and records every call as (level, event, fields)."""

    def __init__(self) -> None:
        """Start with no records."""
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        """Return a function recording a call at that level."""
        return lambda event, **fields: self.records.append((level, event, fields))

    def events(self, name: str) -> list[dict[str, Any]]:
        """Return the fields of every record of the named event."""
        return [fields for _, event, fields in self.records if event == name]
