"""Recognises an Intercom notification envelope cheaply, keeping schemas.Notification's contract.

The fast path parses with orjson and checks field types directly. Whatever it does not accept
outright (coercible values, odd JSON) is decided by the pydantic model itself, so both agree.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from intercom_stream.errors import PoisonMessageError
from schemas import Notification

_MISSING = object()
_OPTIONAL_INTS = ("delivery_attempts", "first_sent_at")


class Envelope(NamedTuple):
    """The envelope fields the ingress needs: topic, notification id and partition key."""

    topic: str
    notification_id: str | None
    key: str

    @property
    def is_ping(self) -> bool:
        """Whether this is Intercom's ping, sent when a webhook is saved."""
        return self.topic == "ping"


def parse(body: bytes) -> Envelope:
    """Return the envelope of a body; raises PoisonMessageError if it is not one."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = _MISSING
    return _fast(document) or _strict(body)


def _is_int(value: object) -> bool:
    """Whether the value is a JSON integer (bool excluded)."""
    return type(value) is int


def _plain_id(value: object) -> bool:
    """Whether an id is one the fast path reads as the model would: a string, null or integer."""
    return value is None or type(value) is str or _is_int(value)


def _id(value: object) -> str | None:
    """Return a plain id as the model reads it (integers coerced to strings)."""
    return None if value is None else str(value)


def _fast(document: Any) -> Envelope | None:
    """Return the envelope when the document is plainly valid, else None (undecided)."""
    if type(document) is not dict or document.get("type") != "notification_event":
        return None
    data, topic = document.get("data"), document.get("topic")
    if type(data) is not dict or type(topic) is not str or not _is_int(document.get("created_at")):
        return None
    item = data.get("item")
    if type(item) is not dict or type(item.get("type")) is not str:
        return None
    if type(data.get("type", "")) is not str or not _optional_fields_plain(document):
        return None
    raw_id, raw_item_id = document.get("id", _MISSING), item.get("id")
    if not (_plain_id(raw_id) and _plain_id(raw_item_id)):
        return None
    notification_id, item_id = _id(raw_id), _id(raw_item_id)
    return Envelope(topic, notification_id, item_id or notification_id or topic)


def _optional_fields_plain(document: dict[str, Any]) -> bool:
    """Whether app_id is a string or null and the optional counters are integers or null."""
    app_id = document.get("app_id")
    if app_id is not None and type(app_id) is not str:
        return False
    return all(document.get(name) is None or _is_int(document[name]) for name in _OPTIONAL_INTS)


def _strict(body: bytes) -> Envelope:
    """Decide with the pydantic model; raises PoisonMessageError naming what is wrong."""
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessageError(f"not an Intercom notification envelope: {exc}") from exc
    return Envelope(notification.topic, notification.id, notification.partition_key())
