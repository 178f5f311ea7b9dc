"""Lock-free metrics (intercom_stream.loop_metrics): what prometheus_client would export."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from intercom_stream.loop_metrics import LoopCounter, LoopHistogram


def samples(registry: CollectorRegistry) -> dict[str, float]:
    """Return the exported samples of a registry, keyed by name and labels (`_created` left out)."""
    lines = generate_latest(registry).decode().splitlines()
    pairs = (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))
    return {name: float(value) for name, value in pairs if "_created" not in name}


def test_a_labelled_counter_exports_what_prometheus_client_s_counter_does() -> None:
    """Same names, labels and values; a label set asked for shows at zero, as there."""
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop = LoopCounter("handled", "Handled.", ["topic", "lane"], ours)
    stock = Counter("handled", "Handled.", ["topic", "lane"], registry=theirs)
    for counter in (loop, stock):
        counter.labels("ping", "live").inc()
        counter.labels("ping", "live").inc(2)
        counter.labels("user.created", "replay").inc()
        counter.labels("conversation.admin.closed", "live")
    assert samples(ours) == samples(theirs)
    assert samples(ours)['handled_total{lane="live",topic="ping"}'] == 3


def test_inc_with_label_values_counts_one_for_them() -> None:
    """The ingress's short form: `inc(status)`."""
    registry = CollectorRegistry()
    counter = LoopCounter("requests", "Requests.", ["status"], registry)
    for status in (200, 200, 401):
        counter.inc(status)
    assert samples(registry) == {
        'requests_total{status="200"}': 2,
        'requests_total{status="401"}': 1,
    }


def test_a_labelled_histogram_exports_what_prometheus_client_s_histogram_does() -> None:
    """Cumulative buckets (a value on a bound counts in it), count and sum per label set."""
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    bounds = (0.001, 0.01, 1.0)
    loop = LoopHistogram("duration_seconds", "Duration.", bounds, ours, ["lane"])
    stock = Histogram("duration_seconds", "Duration.", ["lane"], buckets=bounds, registry=theirs)
    for histogram in (loop, stock):
        for value in (0.0005, 0.001, 0.002, 0.5, 3.0):
            histogram.labels("live").observe(value)
        histogram.labels("replay").observe(0.25)
    assert samples(ours) == pytest.approx(samples(theirs))
    assert samples(ours)['duration_seconds_bucket{lane="live",le="0.001"}'] == 2


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


def test_a_labelled_histogram_is_observed_through_its_labels_only() -> None:
    """Observing it without labels is a mistake, reported as prometheus_client reports it."""
    histogram = LoopHistogram("d", "D.", (1.0,), CollectorRegistry(), ["lane"])
    with pytest.raises(TypeError, match="has labels"):
        histogram.observe(0.5)
