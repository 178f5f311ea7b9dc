"""The ingress metrics: the event-loop histogram exports what Prometheus expects."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from intercom_stream.loop_metrics import LoopHistogram


def samples(registry: CollectorRegistry) -> dict[str, float]:
    """Return the exported samples of a registry, keyed by name and labels."""
    lines = generate_latest(registry).decode().splitlines()
    pairs = (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))
    return {name: float(value) for name, value in pairs}


def test_observations_land_in_cumulative_buckets_bounds_included() -> None:
    """A value equal to a bound counts in its bucket; buckets are cumulative; sum and count add."""
    registry = CollectorRegistry()
    histogram = LoopHistogram("latency_seconds", "Latency", (0.001, 0.01, 1.0), registry)
    for value in (0.0005, 0.001, 0.002, 0.5, 3.0):
        histogram.observe(value)
    assert samples(registry) == {
        'latency_seconds_bucket{le="0.001"}': 2.0,
        'latency_seconds_bucket{le="0.01"}': 3.0,
        'latency_seconds_bucket{le="1.0"}': 4.0,
        'latency_seconds_bucket{le="+Inf"}': 5.0,
        "latency_seconds_count": 5.0,
        "latency_seconds_sum": 3.5035,
    }
