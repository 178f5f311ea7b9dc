"""The monitor without per-record bookkeeping (stream_app.faust.monitor) and faust's hooks."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.sensors.monitor import Monitor
from faust.types import TP

from stream_app.faust.declare import create_faust_app
from stream_app.faust.monitor import RecordlessMonitor

PER_RECORD = (
    "on_message_in",
    "on_stream_event_in",
    "on_stream_event_out",
    "on_message_out",
    "track_tp_end_offset",
)


class Owner:
    """The task owning a stream (the Monitor keys a weak reference by it)."""


class Stream:
    """What the Monitor reads of a stream (it keys weak references by it and by its owner)."""

    def __init__(self) -> None:
        """Belong to an owner, as the stream of an agent does."""
        self.task_owner = Owner()


def feed(monitor: Monitor) -> Monitor:
    """Run every per-record hook once, as faust does for one record."""
    tp, message, stream, event = TP("t", 0), SimpleNamespace(time_in=None), Stream(), Any
    state = monitor.on_stream_event_in(tp, 5, stream, event)  # type: ignore[arg-type]
    monitor.on_message_in(tp, 5, message)  # type: ignore[arg-type]
    monitor.on_stream_event_out(tp, 5, stream, event, state)  # type: ignore[arg-type]
    monitor.on_message_out(tp, 5, message)  # type: ignore[arg-type]
    monitor.track_tp_end_offset(tp, 9)
    return monitor


@pytest.mark.parametrize(("kind", "counted"), [(Monitor, 1), (RecordlessMonitor, 0)])
def test_per_record_hooks_count_only_in_faust_s_monitor(kind: type[Monitor], counted: int) -> None:
    """faust's Monitor counts the record; the recordless one leaves every figure untouched."""
    monitor = feed(kind())
    assert (monitor.events_total, monitor.messages_received_total) == (counted, counted)
    assert len(monitor.tp_end_offsets) == counted


@pytest.mark.parametrize("name", PER_RECORD)
def test_the_emptied_hooks_take_faust_s_arguments(name: str) -> None:
    """Each emptied hook exists on faust's Monitor with the same parameters."""
    ours = inspect.signature(getattr(RecordlessMonitor, name)).parameters
    theirs = inspect.signature(getattr(Monitor, name)).parameters
    assert list(ours) == list(theirs)


def test_every_app_runs_the_recordless_monitor(make_settings: Any, tmp_path: Path) -> None:
    """create_faust_app configures faust's Monitor setting, so its sensor is this one."""
    app = create_faust_app(make_settings(), "monitor-test", 6068, str(tmp_path))
    assert isinstance(app.monitor, RecordlessMonitor)
