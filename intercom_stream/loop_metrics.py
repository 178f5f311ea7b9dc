"""Counters and histograms updated on one event loop only, so without prometheus_client's locks.

prometheus_client takes a lock for each increment and two for each observation, since its values
may be shared between threads. The ingress and the worker update their per-record metrics on
their event loop, and their metrics pages are served on that same loop (aiohttp's server, faust's
web server), so plain numbers suffice. In the worker the locked metrics cost about 2 % of its
CPU (docs/benchmarks.md, session 15). The exposition is prometheus_client's own: these register
as custom collectors in a CollectorRegistry.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

LabelValue = str | int


class LoopCount:
    """One label set's count, as prometheus_client's counter child offers it."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        """Start at zero."""
        self.value = 0.0

    def inc(self, amount: float = 1) -> None:
        """Add `amount` (one by default)."""
        self.value += amount


class LoopCounter:
    """A counter with labels, counted on the event loop."""

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], registry: CollectorRegistry
    ) -> None:
        """Create the empty counter and register it."""
        self._name, self._documentation, self._labels = name, documentation, list(labels)
        self._counts: dict[tuple[LabelValue, ...], LoopCount] = {}
        registry.register(self)

    def labels(self, *values: LabelValue) -> LoopCount:
        """Return the count of these label values, created at zero (exported from then on)."""
        found = self._counts.get(values)
        if found is None:
            found = self._counts[values] = LoopCount()
        return found

    def inc(self, *values: LabelValue) -> None:
        """Count one event with these label values."""
        found = self._counts.get(values) or self.labels(*values)
        found.value += 1

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield one counter family with a sample per label set."""
        family = CounterMetricFamily(self._name, self._documentation, labels=self._labels)
        for values, count in sorted(self._counts.items(), key=lambda item: str(item[0])):
            family.add_metric([str(v) for v in values], count.value)
        yield family


class LoopSeries:
    """One label set's histogram: a count per bucket and the sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        """Start empty."""
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count one observation in the first bucket whose bound is at least the value."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        """Return (bound, cumulative count) pairs, as Prometheus expects."""
        buckets: list[tuple[str, float]] = []
        total = 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += count
            buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), total))
        return buckets


class LoopHistogram:
    """A histogram, with labels or without, observed on the event loop."""

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Sequence[float],
        registry: CollectorRegistry,
        labels: Sequence[str] = (),
    ) -> None:
        """Create the empty histogram and register it."""
        self._name, self._documentation, self._labels = name, documentation, list(labels)
        self._bounds = tuple(buckets)
        self._series: dict[tuple[LabelValue, ...], LoopSeries] = {}
        self._unlabelled = None if labels else self.labels()
        registry.register(self)

    def labels(self, *values: LabelValue) -> LoopSeries:
        """Return the series of these label values, created empty (exported from then on)."""
        found = self._series.get(values)
        if found is None:
            found = self._series[values] = LoopSeries(self._bounds)
        return found

    def observe(self, value: float) -> None:
        """Observe a value on a histogram without labels."""
        if self._unlabelled is None:
            raise TypeError(f"{self._name} has labels: observe through labels(...)")
        self._unlabelled.observe(value)

    def collect(self) -> Iterator[Any]:
        """Yield one histogram family with a series per label set."""
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labels)
        for values, series in sorted(self._series.items(), key=lambda item: str(item[0])):
            family.add_metric([str(v) for v in values], series.cumulative(), series.sum)
        yield family
