"""The faust App, its topics and its tables, declared the way the rest of the code expects."""

from __future__ import annotations

from typing import Any

import faust

from intercom_stream.settings import Settings
from stream_app.faust.connection import report_closed_writes
from stream_app.faust.drain import use_eager_hand_over
from stream_app.faust.flow import use_resume_once
from stream_app.faust.metadata import guard_metadata_sync
from stream_app.faust.monitor import RecordlessMonitor
from stream_app.faust.seek import use_seeking_consumer
from stream_app.faust.unread import use_unread_pausing

# aiokafka keeps one produce request in flight per broker and sends a partition's batch once
# its linger ends. The worker hands its batches to aiokafka and releases them together every
# RELEASE_SECONDS (batches.BatchWriter), so a request carries all partitions' records; the
# linger is only the bound if that stopped. 256 KiB batches (under the broker's 1 MiB limit)
# keep a busy partition from waiting for its batch to drain. A produce request costs about
# 30 µs a partition's batch whatever its size, so the interval sets the producer's CPU: every
# 10 ms, 67 records a request and 94-96 µs a notification; every 25 ms, 158-206 records and
# 28-60 µs (docs/benchmarks.md, session 10); a record waits at most that long to be sent.
LINGER_SECONDS = 0.1
# faust commits on a timer (`broker_commit_interval`, 2.8 s) and also inline in its fetch loop
# every `broker_commit_every` acknowledgements (10,000): that commit flushes the producer and
# waits for the broker while the loop takes no fetched record, so every partition's fetch
# waited with it, for aiokafka's 100 ms prefetch backoff or more (docs/benchmarks.md, session
# 13). Only the timer commits now; it bounds what a crash re-delivers to 2.8 s of records.
COMMIT_EVERY = 1 << 62
RELEASE_SECONDS = 0.025
MAX_BATCH_BYTES = 256 * 1024
# RocksDB per partition database of a JSON table. faust's defaults (three 64 MiB memtables and
# a 2 GiB block cache for each of the 24) let RSS grow with every projection version written
# until a memtable fills: +10 MiB per 25k notifications in issue 13's runs. Small memtables
# are flushed to disk early, so memory stays bounded; the tables are small and mostly written.
STORE_OPTIONS = {
    "write_buffer_size": 2 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "block_cache_size": 8 * 1024 * 1024,
}


def create_faust_app(settings: Settings, app_id: str, web_port: int, datadir: str) -> faust.App:
    """Return a faust App configured from the settings, with nothing registered yet."""
    report_closed_writes()  # connection.py: uvloop's error for a closed socket, made retriable
    guard_metadata_sync()  # metadata.py: the metadata task restarted, never silently dead
    app = faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers()],
        store=settings.worker_store,
        datadir=datadir,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        web_host=settings.worker_web_host,
        web_port=web_port,
        canonical_url=f"http://127.0.0.1:{web_port}",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.worker_session_timeout_seconds,
        broker_heartbeat_interval=settings.worker_session_timeout_seconds / 10,
        producer_acks=-1,
        broker_commit_every=COMMIT_EVERY,
        producer_linger=LINGER_SECONDS,
        producer_max_batch_size=MAX_BATCH_BYTES,
        Monitor=RecordlessMonitor,  # monitor.py: no per-record bookkeeping for /stats
        autodiscover=False,
    )
    use_seeking_consumer(app)  # seek.py: no record dropped by a recovery before a first commit
    use_eager_hand_over(app)  # drain.py: a record handed to its agent without four tasks
    use_resume_once(app)  # flow.py: records handed over during recovery's seek are kept
    use_unread_pausing(app)  # unread.py: changelogs faust stopped reading hold no fetch
    return app


class RawSchema(faust.Schema[bytes, bytes]):
    """Raw bytes keys and values: an event gets the message's own bytes, not a decoded copy.

    faust's `raw` codec hands the bytes back unchanged, after a serializer lookup, a codec
    chain and a type check for each key and each value: about 2 % of the worker's CPU
    (docs/benchmarks.md, session 15). Sending through such a topic still uses the codec.
    """

    def loads_key(self, app: Any, message: Any, **_: Any) -> Any:
        """Return the message's key as it came."""
        return message.key

    def loads_value(self, app: Any, message: Any, **_: Any) -> Any:
        """Return the message's value as it came."""
        return message.value


def raw_topic(app: faust.App, name: str, partitions: int) -> Any:
    """Return a topic of raw bytes keys and values."""
    schema = RawSchema(
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    return app.topic(name, schema=schema, partitions=partitions)


def json_table(app: faust.App, name: str, partitions: int) -> Any:
    """Return a changelog-backed table of string ids and JSON values.

    faust overrides the schema's raw key serializer with JSON (`Collection.key_serializer`),
    so keys are stored and logged as `"id"`; test_faust_tables.py checks it.
    """
    schema: Any = faust.Schema(key_type=str, key_serializer="raw", value_serializer="json")
    # faust's RocksDB store pops keys from the dict it is given, so each table gets a copy.
    return app.Table(name, schema=schema, partitions=partitions, options=dict(STORE_OPTIONS))


def ledger_table(app: faust.App, name: str, partitions: int, help: str) -> Any:
    """Return a changelog-backed table with JSON keys and values and no default."""
    return app.Table(name, default=None, partitions=partitions, help=help)
