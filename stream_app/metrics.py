"""Prometheus metrics of the worker, in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class WorkerMetrics:
    """Counters of what the worker did with each notification."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create the metrics in the given registry, or a new one."""
        self.registry = registry or CollectorRegistry()
        self.handled = Counter(
            "intercom_stream_notifications_handled",
            "Notifications handled, by Intercom topic.",
            ["topic"],
            registry=self.registry,
        )
        self.unhandled = Counter(
            "intercom_stream_notifications_unhandled",
            "Notifications with no handler, by Intercom topic.",
            ["topic"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "intercom_stream_notifications_duplicate",
            "Redelivered notifications skipped by dedup, by Intercom topic.",
            ["topic"],
            registry=self.registry,
        )
        self.retries = Counter(
            "intercom_stream_handler_retries",
            "Handler attempts that failed and were retried, by topic.",
            ["topic"],
            registry=self.registry,
        )
        self.dead_lettered = Counter(
            "intercom_stream_dead_letters",
            "Messages written to the dead-letter topic, by stage.",
            ["stage"],
            registry=self.registry,
        )
        self.reread = Counter(
            "intercom_stream_records_reread",
            "Records the faust stream skipped and the worker read again from Kafka.",
            registry=self.registry,
        )
