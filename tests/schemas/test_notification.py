"""Unit tests of the notification envelope."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from intercom_stream import samples
from schemas import Notification
from schemas.items import Contact, ContactTag, Conversation, Item, Ping

PING: dict[str, Any] = {
    "type": "notification_event",
    "id": None,
    "topic": "ping",
    "app_id": "abc123de",
    "created_at": 1763700000,
    "data": {
        "type": "notification_event_data",
        "item": {"type": "ping", "message": "This is a ping notification test message."},
    },
}


def envelope(item: dict[str, Any], topic: str = "contact.user.created", **fields: Any) -> bytes:
    """Return the raw bytes of a notification around the item."""
    body = samples.notification(topic, item, "notif_1", 1763700000)
    body.update(fields)
    return orjson.dumps(body)


def test_a_sample_notification_parses_with_its_envelope_fields() -> None:
    """The sample conversation notification parses with its envelope and a typed item."""
    n = Notification.model_validate_json(samples.notification_bytes(created_at=1763700000))
    assert n.type == "notification_event"
    assert n.topic == "conversation.user.created"
    assert (n.app_id, n.created_at, n.delivery_attempts, n.first_sent_at) == (
        "abc123de",
        1763700000,
        1,
        1763700000,
    )
    assert n.id is not None
    assert n.id.startswith("notif_")
    assert isinstance(n.data.item, Conversation)
    assert n.data.item.id == "215470312"
    assert not n.is_ping


def test_unknown_envelope_fields_are_kept() -> None:
    """Envelope fields the model does not declare are kept, as Intercom adds them freely."""
    n = Notification.model_validate_json(envelope({"type": "contact", "id": "c1"}))
    assert n.model_extra is not None
    assert n.model_extra["delivery_status"] == "pending"
    assert n.model_extra["links"] == {}
    assert "self" in n.model_extra


def test_a_numeric_notification_id_becomes_a_string() -> None:
    """A notification id sent as a number is coerced to a string."""
    n = Notification.model_validate_json(envelope({"type": "contact", "id": 5}, id=123))
    assert n.id == "123"
    assert n.data.item.id == "5"


def test_an_envelope_of_another_type_is_rejected() -> None:
    """Only `notification_event` envelopes are notifications."""
    with pytest.raises(ValidationError):
        Notification.model_validate_json(envelope({"type": "contact"}, type="conversation"))


@pytest.mark.parametrize("missing", ["topic", "created_at", "data", "id"])
def test_an_envelope_missing_a_required_field_is_rejected(missing: str) -> None:
    """The topic, creation time, data and id (possibly null) are required."""
    body = orjson.loads(envelope({"type": "contact", "id": "c1"}))
    del body[missing]
    with pytest.raises(ValidationError):
        Notification.model_validate(body)


def test_bytes_that_are_not_json_are_rejected_as_a_validation_error() -> None:
    """Invalid JSON raises pydantic's ValidationError, like any other bad envelope."""
    with pytest.raises(ValidationError):
        Notification.model_validate_json(b"{not json")


def test_a_ping_has_a_null_id_and_is_recognised() -> None:
    """Intercom's ping (`id: null`) parses, is a ping and has a Ping item."""
    n = Notification.model_validate(PING)
    assert n.id is None
    assert n.is_ping
    assert isinstance(n.data.item, Ping)


def test_user_and_lead_items_parse_as_contacts_inside_an_envelope() -> None:
    """A 1.x `user` item inside a notification is a Contact."""
    n = Notification.model_validate_json(envelope({"type": "user", "id": "u1"}, "user.created"))
    assert isinstance(n.data.item, Contact)


def test_an_unknown_item_type_inside_an_envelope_is_kept() -> None:
    """An item of an unknown type parses as a plain Item with its extra fields."""
    item = {"type": "article", "id": "a1", "title": "Refunds"}
    n = Notification.model_validate_json(envelope(item, "article.created"))
    assert type(n.data.item) is Item
    assert n.data.item.model_extra == {"title": "Refunds"}


def test_the_partition_key_is_the_item_id() -> None:
    """A notification about a resource is keyed by the resource id."""
    n = Notification.model_validate_json(envelope({"type": "contact", "id": "c1"}))
    assert n.partition_key() == "c1"


def test_a_contact_tag_is_keyed_by_its_contact() -> None:
    """A tag notification is keyed by the tagged contact, like the contact's own notifications."""
    item = {
        "type": "contact_tag",
        "created_at": 1763700100,
        "tag": {"type": "tag", "id": "17", "name": "vip"},
        "contact": {"type": "contact", "id": "c1"},
    }
    n = Notification.model_validate_json(envelope(item, "contact.user.tag.created"))
    assert isinstance(n.data.item, ContactTag)
    assert n.partition_key() == "c1"


def test_a_contact_tag_without_a_contact_id_falls_back_to_the_notification_id() -> None:
    """A tag whose contact has no id is keyed by the notification id."""
    item = {"type": "contact_tag", "tag": {"name": "vip"}, "contact": {"type": "contact"}}
    n = Notification.model_validate_json(envelope(item, "contact.user.tag.created"))
    assert n.partition_key() == "notif_1"


def test_an_item_without_an_id_is_keyed_by_the_notification_id() -> None:
    """Without an item id the key is the notification id."""
    n = Notification.model_validate_json(envelope({"type": "job"}, "job.completed"))
    assert n.partition_key() == "notif_1"


def test_a_ping_is_keyed_by_its_topic() -> None:
    """With neither an item id nor a notification id (ping) the key is the topic."""
    assert Notification.model_validate(PING).partition_key() == "ping"


def outcome(parse: Any, raw: bytes) -> Any:
    """Return the parsed model's dump, or the kind of each validation error."""
    try:
        return parse(raw).model_dump()
    except ValidationError as exc:
        return sorted(error["type"] for error in exc.errors())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
ENVELOPE_FIELDS = ("type", "id", "topic", "app_id", "created_at", "delivery_attempts")


@settings(max_examples=300, deadline=None)
@given(
    fields=st.dictionaries(st.sampled_from(ENVELOPE_FIELDS), JSON_VALUES, max_size=4),
    item=st.dictionaries(
        st.sampled_from(("type", "id", "updated_at", "contacts", "tag", "contact", "extra")),
        JSON_VALUES,
        max_size=4,
    ),
)
def test_from_json_agrees_with_pydantic_s_json_parse(fields: dict[str, Any], item: Any) -> None:
    """Any envelope, valid or not, gives the same model or the same errors both ways."""
    document = orjson.loads(envelope({"type": "contact", "id": "1"}))
    raw = json.dumps({**document, **fields, "data": {"item": item}}).encode()
    assert outcome(Notification.from_json, raw) == outcome(Notification.model_validate_json, raw)


def test_from_json_keeps_an_integer_beyond_64_bits_exact() -> None:
    """An integer beyond 64 bits in an unknown field stays an exact integer, as before."""
    big = b'"big":1' + b"0" * 30 + b',"data"'
    raw = envelope({"type": "contact", "id": "1"}).replace(b'"data"', big)
    assert Notification.from_json(raw) == Notification.model_validate_json(raw)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_from_json_reads_nan_and_infinity_as_pydantic_does(literal: bytes) -> None:
    """JSON's non-standard number literals parse as pydantic's JSON parse reads them."""
    field = b'"x":' + literal + b',"data"'
    raw = envelope({"type": "contact", "id": "1"}).replace(b'"data"', field)
    parsed = outcome(Notification.from_json, raw)
    assert repr(parsed) == repr(outcome(Notification.model_validate_json, raw))  # nan != nan
    assert repr(parsed["x"]) in ("nan", "inf", "-inf")


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"type":"notification_event"}', b"\xff"])
def test_from_json_raises_validation_errors_for_what_is_not_a_notification(raw: bytes) -> None:
    """Broken JSON and other documents fail as pydantic's JSON parse fails them."""
    with pytest.raises(ValidationError):
        Notification.from_json(raw)
