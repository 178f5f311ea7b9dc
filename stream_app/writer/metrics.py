"""Prometheus metrics of the writer, in a registry of their own.

Command counters carry a `lane` label (live, replay); the budget gauges read the rate limiter
and the lag gauges the consumer at scrape time.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from stream_app.lag import Progress, app_lag_collector, lane_of
from stream_app.source import Source
from stream_app.writer.health import Health, circuit
from stream_app.writer.limiter import RateLimiter

CIRCUIT_VALUES = {"closed": 0, "open": 1, "expired": 2}

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320)


class WriterMetrics:
    """What the writer did with commands and how Intercom answered."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create the metrics in the given registry, or a new one."""
        self.registry = registry or CollectorRegistry()
        self.commands = Counter(
            "intercom_writer_commands",
            "Commands finished, by result (accepted, duplicate, dead_lettered).",
            ["result", "lane"],
            registry=self.registry,
        )
        self.calls = Counter(
            "intercom_writer_calls",
            "Calls made to Intercom, by outcome (accepted or the error class).",
            ["outcome"],
            registry=self.registry,
        )
        self.healthy = Gauge(
            "intercom_writer_healthy",
            "1 while the writer sends freely; 0 while degraded or unauthorised.",
            registry=self.registry,
        )
        self.circuit = Gauge(
            "intercom_writer_circuit_state",
            "0 closed; 1 open (Intercom failing, commands held); 2 open past the outage horizon.",
            registry=self.registry,
        )
        self.circuit_opened = Counter(
            "intercom_writer_circuit_opened",
            "Times the circuit opened because Intercom as a whole was failing.",
            registry=self.registry,
        )
        self.outage_gave_up = Counter(
            "intercom_writer_outage_gave_up",
            "Commands dead-lettered because an outage outlasted WRITER_OUTAGE_HORIZON_SECONDS.",
            registry=self.registry,
        )
        self.ledger_evicted = Counter(
            "intercom_writer_ledger_evicted",
            "Ledger entries removed after WRITER_LEDGER_TTL_SECONDS.",
            registry=self.registry,
        )
        self.ledger_size = Gauge(
            "intercom_writer_ledger_entries",
            "Ledger entries of this instance's partitions at the last retention scan.",
            registry=self.registry,
        )
        self.share = Gauge(
            "intercom_writer_window_share",
            "Calls per 10-second window this instance allows itself.",
            registry=self.registry,
        )
        self.remaining = Gauge(
            "intercom_writer_rate_limit_remaining",
            "The last X-RateLimit-Remaining Intercom reported.",
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "intercom_writer_in_flight",
            "Commands consumed but not yet acknowledged, per lane.",
            ["lane"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "intercom_writer_produced_to_accepted_seconds",
            "Time from a command's Kafka timestamp to Intercom accepting it.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.retries = Counter(
            "intercom_writer_retries",
            "Calls to Intercom that failed and were tried again (attempts beyond the first).",
            ["lane"],
            registry=self.registry,
        )
        self.budget_used = Gauge(
            "intercom_writer_budget_used",
            "Calls this instance made in the current 10-second window span.",
            registry=self.registry,
        )
        self.budget_remaining = Gauge(
            "intercom_writer_budget_remaining",
            "Calls this instance may still make in the current window span (its share minus used).",
            registry=self.registry,
        )
        self.progress = Progress()
        self.healthy.set(1)
        self._circuit_state = 0

    def finished(self, source: Source, result: str, attempts: int = 1) -> None:
        """Count a finished command, its retries, and its partition's progress."""
        lane = lane_of(source)
        self.commands.labels(result, lane).inc()
        if attempts > 1:
            self.retries.labels(lane).inc(attempts - 1)
        self.progress.finished(source)

    def watch(self, app: Any, limiter: RateLimiter) -> None:
        """Report the budget and the command partitions' lag at every scrape."""
        self.budget_used.set_function(lambda: limiter.used())
        self.budget_remaining.set_function(lambda: max(0, limiter.share - limiter.used()))
        self.registry.register(app_lag_collector(app, self.progress))

    def show(self, health: Health) -> None:
        """Record a health transition (and count the circuit opening)."""
        state = CIRCUIT_VALUES[circuit(health)]
        if state == 1 and self._circuit_state == 0:
            self.circuit_opened.inc()
        self._circuit_state = state
        self.healthy.set(1 if health.healthy else 0)
        self.circuit.set(state)
