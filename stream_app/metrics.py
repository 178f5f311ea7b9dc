"""Prometheus metrics of the worker, in a registry of their own.

Counters carry a `lane` label (live, replay) where it applies: replayed notifications are
counted apart, so a replay shows as replay throughput and never as a live incident. They are
counted on the worker's event loop, where its metrics page is served, without locks
(intercom_stream.loop_metrics).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from intercom_stream.loop_metrics import LoopCounter, LoopHistogram
from stream_app.lag import Progress, app_lag_collector
from stream_app.source import Source

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class WorkerMetrics:
    """What the worker did with each notification, how long it took, and how far behind it is."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create the metrics in the given registry, or a new one."""
        self.registry = registry or CollectorRegistry()
        self.progress = Progress()
        # A child per label set, as the metric keeps one: the same bounded number.
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}
        self.handled = self._counter(
            "intercom_stream_notifications_handled", "Notifications handled.", ["topic", "lane"]
        )
        self.unhandled = self._counter(
            "intercom_stream_notifications_unhandled", "Notifications with no handler.", ["topic"]
        )
        self.duplicates = self._counter(
            "intercom_stream_notifications_duplicate",
            "Redelivered notifications skipped by dedup.",
            ["topic", "lane"],
        )
        self.retries = self._counter(
            "intercom_stream_handler_retries",
            "Handler attempts that failed and were retried.",
            ["topic", "lane"],
        )
        self.dead_lettered = self._counter(
            "intercom_stream_dead_letters",
            "Messages written to the dead-letter topic (the worker's failures), by stage.",
            ["stage", "lane"],
        )
        # No labels: its one count, `inc(n)` adding n, as prometheus_client's counter.
        self.reread = self._counter(
            "intercom_stream_records_reread",
            "Records the faust stream skipped and the worker read again from Kafka.",
            [],
        ).labels()
        self.duration = LoopHistogram(
            "intercom_stream_process_duration_seconds",
            "Time to process one notification record (verify, parse, dedup, handle, publish).",
            DURATION_BUCKETS,
            self.registry,
            ["lane"],
        )

    def child(self, metric: LoopCounter | LoopHistogram, *labels: str) -> Any:
        """Return the metric's child for the labels, looked up in the metric only once."""
        key = (metric, labels)
        if (found := self._children.get(key)) is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def _counter(self, name: str, documentation: str, labels: list[str]) -> LoopCounter:
        """Return a counter registered in this registry."""
        return LoopCounter(name, documentation, labels, self.registry)

    def finished(self, source: Source, lane: str, seconds: float) -> None:
        """Record one processed record: its duration and its partition's progress."""
        self.child(self.duration, lane).observe(seconds)
        self.progress.finished(source)

    def watch_consumer(self, app: Any) -> None:
        """Report the lag of the app's assigned partitions at every scrape."""
        self.registry.register(app_lag_collector(app, self.progress))
