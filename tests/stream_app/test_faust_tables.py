"""Direct table writes: the store, the changelog record faust's recovery reads, the acks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.faust import produce
from stream_app.faust.declare import STORE_OPTIONS, json_table
from stream_app.faust.tables import ChangelogWriter, DirectTable, PersistedOffsets
from tests.fakes.faust import FakeProducer, Stopped, fake_stop, processing

SOURCE = "intercom.notifications"


def rocksdb_table(path: Path, app_id: str = "direct") -> Any:
    """Return a JSON table on RocksDB under `path`, its app's producer a fake."""
    app = faust.App(app_id, store="rocksdb://", datadir=str(path), autodiscover=False)
    app.producer = FakeProducer()  # type: ignore[assignment]
    table = json_table(app, "dedup", 4)
    table._verified_source_topics_for_partitions.add(SOURCE)  # no consumer metadata here
    return table


def as_changelog_events(sent: list[tuple[Any, ...]]) -> list[Any]:
    """Return the sent records as the changelog events faust's recovery applies."""
    events = []
    for offset, (topic, key, value, partition, _ts, _headers) in enumerate(sent):
        tp = TP(topic, partition)
        message = SimpleNamespace(tp=tp, offset=offset, partition=partition, key=key, value=value)
        events.append(SimpleNamespace(message=message))
    return events


def test_json_tables_log_keys_and_values_as_json(tmp_path: Path) -> None:
    """faust overrides the schema's raw key serializer: table keys are JSON, as values are."""
    table = rocksdb_table(tmp_path)
    assert (table.key_serializer, table.value_serializer) == ("json", "json")


def test_json_tables_keep_their_rocksdb_memory_small(tmp_path: Path) -> None:
    """faust hands a table's options to its RocksDB store, which opens each database with them."""
    store = rocksdb_table(tmp_path).data
    options = store.rocksdb_options
    assert options.write_buffer_size == STORE_OPTIONS["write_buffer_size"]
    assert options.max_write_buffer_number == STORE_OPTIONS["max_write_buffer_number"]
    assert options.block_cache_size == STORE_OPTIONS["block_cache_size"]


async def test_a_write_stores_the_value_and_sends_it_on_the_event_partition(
    tmp_path: Path,
) -> None:
    """The store holds the value; the changelog gets the store's own bytes, on the partition."""
    table = rocksdb_table(tmp_path)
    changelog = ChangelogWriter(table.app.producer)
    direct = DirectTable(table, changelog)
    with processing(SOURCE, 2):
        direct["notif-1"] = {"at": 5}
        assert direct.get("notif-1") == {"at": 5}
        assert await changelog.flush() == table.app.producer.acks
    store = table.data
    assert table.app.producer.sent == [
        (
            table.changelog_topic_name,
            store._encode_key("notif-1"),
            store._encode_value({"at": 5}),
            2,
            None,
            None,
        )
    ]
    assert table.app.producer.sent[0][1] == b'"notif-1"'
    assert await changelog.flush() == []


async def test_recovery_from_the_changelog_gives_the_same_table(tmp_path: Path) -> None:
    """A new store that applies the sent records (as faust's recovery does) reads the same."""
    table = rocksdb_table(tmp_path / "a")
    changelog = ChangelogWriter(table.app.producer)
    direct = DirectTable(table, changelog)
    values = {f"n{n}": {"v": n, "tags": ["a", n]} for n in range(20)}
    for n, (key, value) in enumerate(values.items()):
        with processing(SOURCE, n % 4):
            direct[key] = value
    await changelog.flush()
    replica = rocksdb_table(tmp_path / "b")
    replica.data.apply_changelog_batch(
        as_changelog_events(table.app.producer.sent), to_key=None, to_value=None
    )
    assert {key: replica.data.get(key) for key in values} == values


@pytest.mark.parametrize("delay", [0.0, 0.05])
async def test_the_highest_acknowledged_record_becomes_the_persisted_offset(
    tmp_path: Path, delay: float
) -> None:
    """As faust's _on_changelog_sent, once the delay is over: recovery resumes after it."""
    table = rocksdb_table(tmp_path)
    changelog = ChangelogWriter(table.app.producer, PersistedOffsets(delay=delay))
    with processing(SOURCE, 1):
        DirectTable(table, changelog)["k"] = 1
        DirectTable(table, changelog)["j"] = 2
    await changelog.flush()
    table.app.producer.ack_all(first_offset=41)
    tp = TP(table.changelog_topic_name, 1)
    await asyncio.sleep(0)  # the acks' callbacks run
    assert table.data.persisted_offset(tp) is None
    await asyncio.sleep(delay + 0.02)  # the write they scheduled runs
    assert table.data.persisted_offset(tp) == 42


async def test_a_failed_changelog_send_stops_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """faust only logs a failed changelog send; here it stops the worker before a commit."""
    monkeypatch.setattr(produce, "stop_consuming", fake_stop)
    table = rocksdb_table(tmp_path)
    changelog = ChangelogWriter(table.app.producer)
    with processing(SOURCE, 0):
        DirectTable(table, changelog)["k"] = 1
    [ack] = await changelog.flush()
    ack.set_exception(ConnectionError("changelog gone"))
    with pytest.raises(Stopped, match="changelog gone"):
        PersistedOffsets().note(table.data, ack)


def test_a_write_outside_stream_iteration_is_refused(tmp_path: Path) -> None:
    """Without a current event there is no source partition to write the changelog to."""
    table = rocksdb_table(tmp_path)
    with pytest.raises(TypeError, match="outside of stream iteration"):
        DirectTable(table, ChangelogWriter(table.app.producer))["k"] = 1


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def test_direct_bytes_are_faust_s_own(tmp_path: Path) -> None:
    """Keys and values encode to the bytes faust's serializers give; faust decodes them back."""
    store = rocksdb_table(tmp_path).data

    @settings(max_examples=300, deadline=None)
    @given(key=st.text(), value=JSON_VALUES)
    def same_bytes(key: str, value: Any) -> None:
        assert DirectTable.key_bytes(key) == store._encode_key(key)
        assert DirectTable.value_bytes(value) == store._encode_value(value)
        assert store._decode_value(DirectTable.value_bytes(value)) == value

    same_bytes()


async def test_a_memory_store_keeps_the_value_and_logs_its_json() -> None:
    """On faust's memory store the object is kept; the changelog still gets the JSON bytes."""
    app = faust.App("direct-memory", store="memory://", autodiscover=False)
    app.producer = FakeProducer()  # type: ignore[assignment]
    table = json_table(app, "contacts", 4)
    table._verified_source_topics_for_partitions.add(SOURCE)
    changelog = ChangelogWriter(table.app.producer)
    with processing(SOURCE, 3):
        DirectTable(table, changelog)["c-1"] = {"tags": {"vip": True}}
    await changelog.flush()
    assert DirectTable(table, changelog).get("c-1") == {"tags": {"vip": True}}
    assert table.app.producer.sent[0][1:4] == (b'"c-1"', b'{"tags":{"vip":true}}', 3)


def test_a_table_that_is_not_json_is_refused(tmp_path: Path) -> None:
    """The direct encoding is faust's JSON; any other serializer would be written wrongly."""
    app = faust.App("direct-raw", store="memory://", autodiscover=False)
    table = app.Table("raw", value_type=bytes)  # bytes values: faust's raw serializer
    with pytest.raises(TypeError, match="not a JSON table"):
        DirectTable(table, ChangelogWriter(app.producer))
