"""The cheap envelope parser agrees with schemas.Notification on every input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ingress.envelope import parse
from intercom_stream import samples
from intercom_stream.errors import PoisonMessageError
from schemas import Notification

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is usually well-typed, sometimes any scalar, sometimes missing."""
    return st.one_of(value, value, scalars, st.just(...))


def document(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop the fields drawn as missing (Ellipsis)."""
    return {name: value for name, value in fields.items() if value is not ...}


items = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from(["conversation", "ping"])), "id": maybe(st.text(max_size=5))}
).map(document)
envelopes = st.fixed_dictionaries(
    {
        "type": maybe(st.just("notification_event")),
        "id": maybe(st.one_of(st.none(), st.text(max_size=6))),
        "topic": maybe(st.sampled_from(["ping", "contact.user.created", ""])),
        "app_id": maybe(st.text(max_size=4)),
        "created_at": maybe(st.integers(0, 2**40)),
        "delivery_attempts": maybe(st.integers(0, 3)),
        "first_sent_at": maybe(st.integers(0, 2**40)),
        "data": maybe(
            st.fixed_dictionaries(
                {"type": maybe(st.just("notification_event_data")), "item": maybe(items)}
            ).map(document)
        ),
    }
).map(document)


@given(envelope=envelopes)
def test_property_parse_agrees_with_the_notification_model(envelope: dict[str, Any]) -> None:
    """Accepted exactly when the pydantic model accepts, with the same topic, id and key."""
    body = json.dumps(envelope).encode()
    try:
        model = Notification.model_validate_json(body)
    except ValidationError:
        with pytest.raises(PoisonMessageError):
            parse(body)
        return
    parsed = parse(body)
    assert (parsed.topic, parsed.notification_id, parsed.key) == (
        model.topic, model.id, model.partition_key(),
    )  # fmt: skip


def test_sample_conversation_is_keyed_by_the_item_id() -> None:
    """The key is data.item.id when there is one."""
    parsed = parse(samples.notification_bytes(notification_id="notif_9"))
    assert (parsed.key, parsed.notification_id, parsed.is_ping) == ("215470312", "notif_9", False)


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b'{"type":"notification_event"}'])
def test_non_envelopes_are_poison(body: bytes) -> None:
    """Non-JSON and JSON that is no envelope raise PoisonMessageError."""
    with pytest.raises(PoisonMessageError):
        parse(body)
