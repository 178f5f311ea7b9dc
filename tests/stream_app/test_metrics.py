"""The worker's metrics (stream_app.metrics) and the record's headers they are labelled by."""

from __future__ import annotations

from stream_app.metrics import WorkerMetrics
from stream_app.source import Source


def test_a_child_is_looked_up_once_and_counts_in_the_registry() -> None:
    """The cached child is the metric's own, so its counts are the ones exposed."""
    metrics = WorkerMetrics()
    child = metrics.child(metrics.handled, "ping", "live")
    assert metrics.child(metrics.handled, "ping", "live") is child
    child.inc()
    child.inc()
    labels = {"topic": "ping", "lane": "live"}
    value = metrics.registry.get_sample_value("intercom_stream_notifications_handled_total", labels)
    assert value == 2


def test_the_reread_count_adds_what_it_is_given() -> None:
    """The continuity check reports how many records it read again: `inc(n)` adds n."""
    metrics = WorkerMetrics()
    metrics.reread.inc(3)
    metrics.reread.inc(1)
    assert metrics.registry.get_sample_value("intercom_stream_records_reread_total") == 4


def test_a_header_given_twice_reads_as_its_last_value() -> None:
    """Source.header returns the last value of a repeated header, None for a missing one."""
    source = Source("t", 0, 1, None, b"", (("a", b"1"), ("b", b"2"), ("a", b"3")))
    assert (source.header("a"), source.header("b"), source.header("c")) == (b"3", b"2", None)
