"""Replay audit records: who replayed what, when, with which counts and outcome.

Every replay writes `started` (the selection and the exact ranges, so a resume reads the same
records), `checkpoint` records as it goes (the next offset per partition) and a last record,
`finished` or `interrupted`. All are keyed by the replay id on the audit topic, which keeps
them a year; `replay history` folds them into one line per replay.
"""

from __future__ import annotations

import getpass
import socket
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from intercom_stream.ops import kafka_io
from intercom_stream.ops.replay_plan import Ranges, Selection
from intercom_stream.ops.timespec import iso
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_audit_topic


def new_replay_id(now: float) -> str:
    """Return a replay id that sorts by start time: `r-YYYYmmddTHHMMSSZ-xxxxxxxx`."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"r-{stamp}-{uuid.uuid4().hex[:8]}"


def started(
    replay_id: str, selection: Selection, ranges: Ranges, options: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    """Return the record that opens a replay."""
    return {
        "replay_id": replay_id, "event": "started", "at_ms": now_ms,
        "user": getpass.getuser(), "host": socket.gethostname(),
        "selection": asdict(selection), "ranges": {str(p): list(r) for p, r in ranges.items()},
        **options,
    }  # fmt: skip


async def write(producer: AIOKafkaProducer, settings: Settings, record: dict[str, Any]) -> None:
    """Write one audit record and wait for its acknowledgement."""
    key = str(record["replay_id"]).encode()
    await kafka_io.send(producer, replay_audit_topic(settings), key, orjson.dumps(record), ())


async def read_all(settings: Settings) -> list[dict[str, Any]]:
    """Return every audit record, oldest first."""
    records = await kafka_io.read_topic(settings.bootstrap_servers(), replay_audit_topic(settings))
    return [orjson.loads(r.value) for r in sorted(records, key=lambda r: (r.partition, r.offset))]


def fold(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return one merged record per replay id: the start's fields updated by later records."""
    replays: dict[str, dict[str, Any]] = {}
    for record in records:
        merged = replays.setdefault(record["replay_id"], {"started_at": iso(record["at_ms"])})
        merged.update(record)
        # A replay killed without a last record stays `unfinished`; --resume continues it.
        done = record["event"] in ("finished", "interrupted")
        merged["outcome"] = record["event"] if done else "unfinished"
    return replays


def history_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows `replay history` prints, oldest replay first."""
    return [
        {
            "replay_id": replay_id, "started_at": r["started_at"], "by": f"{r['user']}@{r['host']}",
            "outcome": r["outcome"], "selected": r.get("selected"), "sent": r.get("sent", 0),
            "force_resend": r.get("force_resend", False), "selection": compact(r["selection"]),
            "resumes": r.get("resumes", 0),
        }
        for replay_id, r in fold(records).items()
    ]  # fmt: skip


def compact(selection: dict[str, Any]) -> str:
    """Return the selection's given fields as `name=value` text."""
    given = {k: v for k, v in selection.items() if v not in (None, [], ())}
    for name in ("since_ms", "until_ms"):
        if name in given:
            given[name.removesuffix("_ms")] = iso(given.pop(name))
    text = {
        k: ",".join(map(str, v)) if isinstance(v, list | tuple) else v for k, v in given.items()
    }
    return " ".join(f"{k}={v}" for k, v in text.items()) or "everything"


def resume_point(records: list[dict[str, Any]], replay_id: str) -> dict[str, Any] | None:
    """Return the replay's merged record (ranges, options, last positions), or None if unknown."""
    return fold([r for r in records if r["replay_id"] == replay_id]).get(replay_id)
