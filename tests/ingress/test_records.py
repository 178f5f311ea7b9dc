"""Record building and the spool encoding of records."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingress.envelope import Envelope
from ingress.records import Record, dead_letter_record, decode, encode, notification_record
from schemas import headers

records = st.builds(
    Record,
    topic=st.text(min_size=1, max_size=30),
    key=st.binary(max_size=40),
    value=st.binary(max_size=400),
    headers=st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=6).map(
        tuple
    ),
)


@given(record=records)
def test_property_spool_encoding_round_trips(record: Record) -> None:
    """Every record decodes from the spool exactly as it was encoded."""
    assert decode(encode(record)) == record


def test_notification_record_carries_the_ingress_headers() -> None:
    """The record has the raw body, the key, and the five ingress headers."""
    envelope = Envelope("contact.user.created", None, "c1")
    record = notification_record("topic", envelope, b"{}", "sha1=ab", 1_700_000_000_123, "i-1")
    assert (record.topic, record.key, record.value) == ("topic", b"c1", b"{}")
    assert dict(record.headers) == {
        headers.INTERCOM_TOPIC: b"contact.user.created",
        headers.NOTIFICATION_ID: b"",
        headers.RECEIVED_AT_MS: b"1700000000123",
        headers.SIGNATURE: b"sha1=ab",
        headers.INGRESS_INSTANCE: b"i-1",
    }


def test_dead_letter_record_carries_the_spring_headers() -> None:
    """An ingress dead letter names the exception class and its stage in headers."""
    record = dead_letter_record("t.dlt", b"{}", ValueError("bad"), "sha1=ab", 1_700, "i-1")
    found = dict(record.headers)
    assert found["kafka_dlt-exception-fqcn"] == b"builtins.ValueError"
    assert (found["x-stage"], found["x-attempts"]) == (b"ingress", b"1")
