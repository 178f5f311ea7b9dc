"""Prometheus metrics of the ingress, in a registry of its own."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from intercom_stream.loop_metrics import LoopCounter, LoopHistogram

PRODUCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The ingress's counters, gauges and histograms."""

    def __init__(self) -> None:
        """Create every metric in a fresh registry."""
        self.registry = CollectorRegistry()
        self.requests = LoopCounter(
            "ingress_requests", "Webhook requests answered, by status", ["status"], self.registry
        )
        self.signature_failures = Counter(
            "ingress_signature_failures", "Requests refused for their signature",
            registry=self.registry,
        )  # fmt: skip
        self.produce_latency = LoopHistogram(
            "ingress_produce_latency_seconds", "Time from send to Kafka acknowledgement",
            PRODUCE_BUCKETS, self.registry,
        )  # fmt: skip
        self.outcomes = LoopCounter(
            "ingress_notifications", "Notifications accepted, by how (produced, spooled, "
            "dead_lettered)", ["outcome"], self.registry,
        )  # fmt: skip
        self.spool_depth = Gauge(
            "ingress_spool_depth", "Notifications on the spool, not yet on Kafka",
            registry=self.registry,
        )  # fmt: skip
        self.spool_drained = Counter(
            "ingress_spool_drained", "Spooled notifications written to Kafka (rate = drain rate)",
            registry=self.registry,
        )  # fmt: skip
        self.kafka_connected = Gauge(
            "ingress_kafka_connected", "1 while the producer is connected and acknowledging",
            registry=self.registry,
        )  # fmt: skip
        self.connections_open = Gauge(
            "ingress_connections_open", "HTTP connections open (refused ones not counted)",
            registry=self.registry,
        )  # fmt: skip
        self.connections_rejected = Counter(
            "ingress_connections_rejected", "Connections refused with a 503 beyond "
            "INGRESS_MAX_CONNECTIONS", registry=self.registry,
        )  # fmt: skip
        self.connections_timed_out = LoopCounter(
            "ingress_connections_timed_out", "Connections closed because a request did not arrive "
            "within the read timeout, by what was late (headers, body)", ["stage"], self.registry,
        )  # fmt: skip

    def track(self, depth: Callable[[], int], connected: Callable[[], bool]) -> None:
        """Read spool depth and Kafka state from callables at scrape time."""
        self.spool_depth.set_function(lambda: float(depth()))
        self.kafka_connected.set_function(lambda: float(connected()))

    def track_connections(self, count: Callable[[], int]) -> None:
        """Read the number of open connections from a callable at scrape time."""
        self.connections_open.set_function(lambda: float(count()))
