"""The raw topics' schema (stream_app.faust.declare.RawSchema) and the faust decode it relies on."""

from __future__ import annotations

import inspect
from typing import Any

import faust
import pytest
from faust.serializers.schemas import Schema
from faust.types import TP
from faust.types.tuples import Message

from stream_app.faust.declare import RawSchema, raw_topic


def message(key: bytes | None, value: bytes | None) -> Message:
    """Return a consumed message with this key and value."""
    return Message("raw", 0, 7, 0.0, 0, [], key, value, None, tp=TP("raw", 0))


@pytest.mark.parametrize(("key", "value"), [(b"conv-1", b'{"a":1}'), (None, b"v"), (b"k", b"")])
async def test_an_event_carries_the_message_s_bytes_as_faust_s_raw_codec_would(
    key: bytes | None, value: bytes
) -> None:
    """The same key and value as faust's `raw` schema decodes, the very objects the message has."""
    app = faust.App("raw-schema", autodiscover=False)
    topic: Any = raw_topic(app, "raw", 4)
    assert isinstance(topic.schema, RawSchema)
    sent = message(key, value)
    event = await topic.schema.decode(app, sent, propagate=True)
    stock: Any = faust.Schema(
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    expected = await stock.decode(app, sent, propagate=True)
    assert (event.key, event.value) == (expected.key, expected.value)
    assert event.key is key
    assert event.value is value
    assert event.message is sent


async def test_a_raw_topic_still_encodes_what_is_sent_through_it_as_raw_bytes() -> None:
    """Only decoding is short-cut: a value sent through the topic is its bytes."""
    app = faust.App("raw-schema-send", autodiscover=False)
    topic: Any = raw_topic(app, "raw", 4)
    assert topic.schema.dumps_value(app, b"v", headers=None) == (b"v", None)


def test_faust_decodes_an_event_by_the_schema_s_loads_key_and_loads_value() -> None:
    """`Schema.compile` calls the schema's own methods, which RawSchema replaces."""
    source = inspect.getsource(Schema.compile)
    assert "schema_loads_key = self.loads_key" in source
    assert "schema_loads_value = self.loads_value" in source
    assert "schema_loads_key(app, message, loads=loads_key)" in source
