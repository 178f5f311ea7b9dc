"""Prometheus metrics of the writer, in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from stream_app.writer.health import Health, circuit

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
            ["result"],
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
            "Commands consumed but not yet acknowledged.",
            registry=self.registry,
        )
        self.latency = Histogram(
            "intercom_writer_produced_to_accepted_seconds",
            "Time from a command's Kafka timestamp to Intercom accepting it.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.healthy.set(1)
        self._circuit_state = 0

    def show(self, health: Health) -> None:
        """Record a health transition (and count the circuit opening)."""
        state = CIRCUIT_VALUES[circuit(health)]
        if state == 1 and self._circuit_state == 0:
            self.circuit_opened.inc()
        self._circuit_state = state
        self.healthy.set(1 if health.healthy else 0)
        self.circuit.set(state)
