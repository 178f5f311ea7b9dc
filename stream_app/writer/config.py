"""The few values the writer needs, taken from the settings once at the entry point."""

from __future__ import annotations

from dataclasses import dataclass

from intercom_stream.settings import Settings
from intercom_stream.topics import contact_cache_updates_topic, replay_commands_topic
from stream_app.writer.breaker import BreakerPolicy
from stream_app.writer.client import Connection
from stream_app.writer.health import HealthPolicy


@dataclass(frozen=True)
class WriterTopics:
    """The topics the writer reads or declares, and the partitions every one of them has."""

    commands: str
    replay_commands: str
    notifications: str  # fed into the contact cache
    contact_cache_updates: str
    partitions: int
    wait_seconds: float  # how long to wait for them to exist at start

    @classmethod
    def from_settings(cls, settings: Settings) -> WriterTopics:
        """Take the writer's topic names and partition count."""
        return cls(
            commands=settings.topic_commands,
            replay_commands=replay_commands_topic(settings),
            notifications=settings.topic_notifications,
            contact_cache_updates=contact_cache_updates_topic(settings),
            partitions=settings.topic_partitions,
            wait_seconds=settings.worker_topics_wait_seconds,
        )


@dataclass(frozen=True)
class WriterConfig:
    """Topics, Intercom connection, budget, retries, window, circuit and ledger of the writer."""

    topics: WriterTopics
    connection: Connection
    calls_per_window: int
    max_attempts: int
    backoff_cap_seconds: float
    max_in_flight: int
    breaker: BreakerPolicy
    health: HealthPolicy
    ledger_ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> WriterConfig:
        """Take the writer's values (the health's probes are capped by the retry backoff cap)."""
        return cls(
            topics=WriterTopics.from_settings(settings),
            connection=Connection.from_settings(settings),
            calls_per_window=settings.writer_calls_per_window,
            max_attempts=settings.writer_max_attempts,
            backoff_cap_seconds=settings.writer_backoff_cap_seconds,
            max_in_flight=settings.writer_max_in_flight,
            breaker=BreakerPolicy(
                settings.writer_circuit_failures,
                settings.writer_circuit_window_seconds,
                settings.writer_circuit_failure_ratio,
            ),
            health=HealthPolicy(
                settings.writer_probe_first_seconds,
                settings.writer_backoff_cap_seconds,
                settings.writer_outage_horizon_seconds,
            ),
            ledger_ttl_seconds=settings.writer_ledger_ttl_seconds,
        )
