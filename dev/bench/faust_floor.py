"""The faust floor: a worker whose agent does nothing, or sends each record on unchanged.

Run by `dev/bench/pipeline.py` over the same notifications as the pipeline, to show how much
of the per-notification cost is faust's own event path. Configured by the environment:
FLOOR_BROKER, FLOOR_TOPIC, FLOOR_OUT (empty: send nothing), FLOOR_COUNT, FLOOR_APP,
FLOOR_PORT, FLOOR_DATADIR, FLOOR_LOOP (`uvloop` runs it on uvloop, as the worker runs),
FLOOR_BATCHES (`1`: append the four records a notification writes to FLOOR_OUT through the
worker's BatchWriter instead of `Topic.send`, the worker's output path without its work),
FLOOR_TUNED (`1`: faust as the worker runs it, with drain.py's eager hand-over and
monitor.py's RecordlessMonitor).
Prints `FLOOR <events/s>` after FLOOR_COUNT events, then exits.
"""

from __future__ import annotations

import os
import time
from typing import Any

import faust
import mode.loop

ENV = os.environ
if ENV.get("FLOOR_LOOP") == "uvloop":
    mode.loop.use("uvloop")  # before the app and its loop exist
COUNT = int(ENV["FLOOR_COUNT"])
app = faust.App(
    ENV["FLOOR_APP"],
    broker=f"kafka://{ENV['FLOOR_BROKER']}",
    store="memory://",
    datadir=ENV["FLOOR_DATADIR"],
    web_port=int(ENV["FLOOR_PORT"]),
    consumer_auto_offset_reset="earliest",
    producer_acks=-1,
    autodiscover=False,
)
if ENV.get("FLOOR_TUNED") == "1":  # the worker's faust: eager hand-over, recordless monitor
    from stream_app.faust.drain import use_eager_hand_over
    from stream_app.faust.monitor import RecordlessMonitor

    use_eager_hand_over(app)
    app.monitor = RecordlessMonitor()
raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes}
source = app.topic(ENV["FLOOR_TOPIC"], key_serializer="raw", value_serializer="raw", **raw)
out = app.topic(ENV["FLOOR_OUT"], key_serializer="raw", value_serializer="raw", **raw)
seen = {"count": 0, "started": 0.0}
# About the sizes of what a closed-conversation notification writes: a command, an event, the
# conversation's changelog record and its dedup mark.
RECORDS = (b"c" * 600, b"e" * 700, b"p" * 1200, b"1796183046000")
batches = None
if ENV.get("FLOOR_BATCHES") == "1":
    from stream_app.faust.batches import BatchWriter
    from stream_app.faust.declare import RELEASE_SECONDS

    batches = BatchWriter(app)
    batches.install(RELEASE_SECONDS)


@app.agent(source, isolated_partitions=True)
async def floor(stream: Any) -> None:
    """Count events (sending each on when FLOOR_OUT is set); print the rate at COUNT."""
    async for event in stream.events():
        message = event.message
        if batches is not None:
            for value in RECORDS:
                _batch = batches.append(ENV["FLOOR_OUT"], message.partition, message.key, value, [])
        elif ENV["FLOOR_OUT"]:
            _ack = await out.send(key=message.key, value=message.value)
        seen["started"] = seen["started"] or time.perf_counter()
        seen["count"] += 1
        if seen["count"] == COUNT:
            print(f"FLOOR {COUNT / (time.perf_counter() - seen['started']):.0f}", flush=True)
            os._exit(0)


if __name__ == "__main__":
    app.main()
