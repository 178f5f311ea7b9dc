"""Prometheus metrics of the ingress, in a registry of its own."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

PRODUCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class LoopHistogram:
    """A histogram observed only on the event loop, so without prometheus_client's locks."""

    def __init__(
        self, name: str, documentation: str, buckets: Sequence[float], registry: CollectorRegistry
    ) -> None:
        """Create the empty histogram and register it."""
        self._name, self._documentation = name, documentation
        self._bounds = tuple(buckets)
        self._counts = [0] * (len(self._bounds) + 1)
        self._sum = 0.0
        registry.register(self)

    def observe(self, value: float) -> None:
        """Count one observation in the first bucket whose bound is at least the value."""
        self._counts[bisect_left(self._bounds, value)] += 1
        self._sum += value

    def collect(self) -> Iterator[HistogramMetricFamily]:
        """Yield the histogram with cumulative buckets, as Prometheus expects."""
        buckets, total = [], 0
        for bound, count in zip((*self._bounds, float("inf")), self._counts, strict=True):
            total += count
            buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), total))
        yield HistogramMetricFamily(
            self._name, self._documentation, buckets=buckets, sum_value=self._sum
        )


class LoopCounter:
    """A counter with one label, counted on the event loop, so without prometheus_client's locks."""

    def __init__(
        self, name: str, documentation: str, label: str, registry: CollectorRegistry
    ) -> None:
        """Create the empty counter and register it."""
        self._name, self._documentation, self._label = name, documentation, label
        self._counts: dict[int | str, int] = {}
        registry.register(self)

    def inc(self, value: int | str) -> None:
        """Count one event with this label value."""
        self._counts[value] = self._counts.get(value, 0) + 1

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield the counts as one counter family labelled by the label's values."""
        family = CounterMetricFamily(self._name, self._documentation, labels=[self._label])
        for value, count in sorted(self._counts.items(), key=lambda item: str(item[0])):
            family.add_metric([str(value)], count)
        yield family


class Metrics:
    """The ingress's counters, gauges and histograms."""

    def __init__(self) -> None:
        """Create every metric in a fresh registry."""
        self.registry = CollectorRegistry()
        self.requests = LoopCounter(
            "ingress_requests", "Webhook requests answered, by status", "status", self.registry
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
            "dead_lettered)", "outcome", self.registry,
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
            "within the read timeout, by what was late (headers, body)", "stage", self.registry,
        )  # fmt: skip

    def track(self, depth: Callable[[], int], connected: Callable[[], bool]) -> None:
        """Read spool depth and Kafka state from callables at scrape time."""
        self.spool_depth.set_function(lambda: float(depth()))
        self.kafka_connected.set_function(lambda: float(connected()))

    def track_connections(self, count: Callable[[], int]) -> None:
        """Read the number of open connections from a callable at scrape time."""
        self.connections_open.set_function(lambda: float(count()))
