"""The command contract: what the writer accepts, rejects and how producers serialise it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.commands import (
    COMMAND_ID_RECORD_HEADER,
    CreateDataEvent,
    command_bytes,
    command_record,
    parse_command,
)
from schemas.export import write_json_schemas


def command(**event: Any) -> dict[str, Any]:
    """Return a valid command as JSON-ready data, with the event fields overridden."""
    body = {"event_name": "placed-order", "created_at": 1_763_700_000, "user_id": "u-1"}
    body.update(event)
    return {
        "kind": "data_event.create",
        "command_id": "cmd-1",
        "source": "stream-core",
        "issued_at_ms": 1_763_700_000_123,
        "event": {k: v for k, v in body.items() if v is not None},
    }


def parse(data: dict[str, Any]) -> CreateDataEvent:
    """Validate command data as the writer does, from JSON bytes."""
    parsed = parse_command(orjson.dumps(data))
    assert isinstance(parsed, CreateDataEvent)
    return parsed


def test_valid_command_round_trips_through_its_bytes() -> None:
    """A valid command parses, and the producer helper writes bytes that parse back equal."""
    metadata = {
        "order_number": "A-1",
        "items": 3,
        "ratio": 0.5,
        "paid_date": 1_763_700_000,
        "invoice": "https://example.com/i/1",
        "receipt": {"url": "https://example.com/r/1", "value": "Receipt"},
        "price": {"amount": 2999, "currency": "eur"},
    }
    parsed = parse(command(metadata=metadata))
    assert parse_command(command_bytes(parsed)) == parsed
    assert parsed.request() == ("POST", "/events", command(metadata=metadata)["event"])


def test_record_is_keyed_by_the_contact_identifier() -> None:
    """The Kafka key names the identifier field and value; headers carry id and kind."""
    key, value, headers = command_record(parse(command(user_id=None, email="a@example.com")))
    assert key == b"email:a@example.com"
    assert parse_command(value).command_id == "cmd-1"
    assert (COMMAND_ID_RECORD_HEADER, b"cmd-1") in headers


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"event_name": ""}, "at least 1 character"),
        ({"event_name": "   "}, "must not be blank"),
        ({"created_at": 1_763_700_000_000}, "less than or equal"),
        ({"created_at": "1763700000"}, "valid integer"),
        ({"created_at": 1.5}, "valid integer"),
        ({"user_id": None}, "exactly one of user_id, id, email"),
        ({"id": "abc"}, "exactly one of user_id, id, email"),
        ({"metadata": {f"k{i}": i for i in range(11)}}, "at most 10 metadata keys"),
        ({"metadata": {"nested": {"a": 1}}}, "metadata.nested"),
        ({"metadata": {"list": [1, 2]}}, "metadata.list"),
        ({"metadata": {"flag": True}}, "metadata.flag"),
        ({"metadata": {"paid_date": "yesterday"}}, "unix timestamp"),
        ({"metadata": {"price": {"amount": 1.5, "currency": "eur"}}}, "metadata.price"),
        ({"metadata": {"link": {"url": "https://x", "value": "x", "extra": 1}}}, "metadata.link"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_events_are_rejected_with_a_clear_error(
    event: dict[str, Any], message: str
) -> None:
    """Each rule of Intercom's data events is enforced before anything is sent."""
    with pytest.raises(ValidationError, match=message):
        parse(command(**event))


@pytest.mark.parametrize("missing", ["command_id", "source", "issued_at_ms", "kind", "event"])
def test_envelope_fields_are_required(missing: str) -> None:
    """Every command names its id, source, creation time, kind and payload."""
    data = command()
    del data[missing]
    with pytest.raises(ValidationError):
        parse(data)


def test_unknown_kind_is_rejected() -> None:
    """The discriminator refuses kinds the writer does not know."""
    data = command()
    data["kind"] = "contact.delete"
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        parse(data)


@pytest.mark.parametrize(
    ("name", "warned"),
    [
        ("placed-order", False),
        ("sent_invoice", False),
        ("paid-bill", False),
        ("order", True),
        ("place-order", True),
        ("Placed Order", True),
    ],
)
def test_event_names_that_break_the_convention_are_warned_not_rejected(
    name: str, warned: bool
) -> None:
    """A name that is not a past-tense verb-noun is valid but draws advice."""
    assert bool(parse(command(event_name=name)).style_warnings()) is warned


@given(
    st.dictionaries(
        st.text(min_size=1).filter(str.strip), st.integers(-(2**53), 2**53), max_size=10
    )
)
def test_up_to_ten_numeric_metadata_keys_are_accepted(metadata: dict[str, int]) -> None:
    """Any ten or fewer non-date keys with integer values validate."""
    metadata = {k: v for k, v in metadata.items() if not k.endswith("_date")}
    assert parse(command(metadata=metadata)).event.metadata == metadata


def test_json_schemas_are_exported_one_file_per_model(tmp_path: Path) -> None:
    """Every message on every topic, and each projection, gets a JSON Schema file."""
    paths = write_json_schemas(tmp_path / "schemas")
    assert sorted(p.name for p in paths) == [
        "command.schema.json",
        "crm-company.schema.json",
        "crm-contact.schema.json",
        "dead-letter.schema.json",
        "event-contact.schema.json",
        "event-conversation.schema.json",
        "notification.schema.json",
        "projection-contact.schema.json",
        "projection-conversation.schema.json",
    ]
    schema = json.loads((tmp_path / "schemas" / "command.schema.json").read_text())
    assert schema["discriminator"]["propertyName"] == "kind"
