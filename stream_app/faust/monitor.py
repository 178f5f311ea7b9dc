"""faust's Monitor without its per-record bookkeeping: the worker's metrics are its own.

faust's Monitor sensor runs four hooks on every record and one on every fetched partition
(`on_message_in`, `on_stream_event_in`, `on_stream_event_out`, `on_message_out`,
`track_tp_end_offset`): counters, timestamps, a state dict and deques of timings behind
faust's `/stats` page, which nothing here reads (the Prometheus metrics and the lag are the
project's own: stream_app/metrics.py, stream_app/lag.py). They cost 5-7 µs an event: the
empty agent with the eager hand-over (drain.py) ran 15,700-17,900 events/s with them and
17,400-20,400 without, in three alternated runs of 60k. Every other hook (sends, commits,
tables, rebalances) runs once per batch or per commit and is kept.
"""

from __future__ import annotations

from typing import Any

from faust.sensors.monitor import Monitor


class RecordlessMonitor(Monitor):
    """faust's Monitor with its per-record hooks emptied (`App(Monitor=RecordlessMonitor)`)."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        """Record nothing when a record is handed to the streams."""

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        """Record nothing when a stream starts on an event (no state for `..._out`)."""

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        """Record nothing when a stream is done with an event."""

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        """Record nothing when a record is acknowledged."""

    def track_tp_end_offset(self, tp: Any, offset: int) -> None:
        """Keep no partition's high watermark (the lag collector reads the consumer's)."""
