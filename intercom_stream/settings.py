"""The one frozen settings object, built from the environment at the entry point only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from intercom_stream.errors import ConfigurationError

DEVELOPMENT_SECRET = "intercom-stream-development-secret"  # noqa: S105 - documented for make run only


# The one place the data topics are named: each setting, and its name under a namespace.
TOPIC_SUFFIXES = {
    "topic_notifications": "notifications",
    "topic_commands": "commands",
    "topic_dead_letter": "dead-letter",
    "topic_events_conversations": "events.conversations",
    "topic_events_contacts": "events.contacts",
    "topic_crm_contacts": "crm.contacts",
    "topic_crm_companies": "crm.companies",
}


def namespaced_topics(namespace: str) -> dict[str, str]:
    """Return every topic setting under a namespace (tests and benchmarks use their own)."""
    return {setting: f"{namespace}.{suffix}" for setting, suffix in TOPIC_SUFFIXES.items()}


DEFAULT_TOPICS = namespaced_topics("intercom")


class Settings(BaseModel):
    """Every knob of the system; names match the environment variables operators set.

    Constructing it reads nothing: the entry point passes the environment to `from_env`, and
    tests pass their own values, so a variable exported on a developer's machine cannot
    change a test's outcome.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Return settings from environment variables (upper-case field names), then overrides."""
        values: dict[str, Any] = {
            name: env[name.upper()] for name in cls.model_fields if name.upper() in env
        }
        return cls(**{**values, **overrides})

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    intercom_client_secret: SecretStr = SecretStr("")
    intercom_access_token: SecretStr = SecretStr("")
    intercom_api_url: str = "https://api.intercom.io"
    ingress_host: str = "0.0.0.0"  # noqa: S104 - a webhook receiver listens on every interface
    ingress_port: int = Field(default=8080, ge=1, le=65535)
    ingress_instance_id: str = ""
    ingress_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    ingress_spool_dir: str = "var/spool"
    ingress_produce_timeout_seconds: float = Field(default=2.0, gt=0, lt=5)
    ingress_shutdown_timeout_seconds: float = Field(default=10.0, gt=0)
    ingress_read_timeout_seconds: float = Field(default=10.0, gt=0)
    ingress_keepalive_timeout_seconds: float = Field(default=75.0, gt=0)
    ingress_max_connections: int = Field(default=1000, ge=1)
    worker_web_port: int = Field(default=6066, ge=1, le=65535)
    worker_web_host: str = "0.0.0.0"  # noqa: S104
    worker_app_id: str = "intercom-stream"
    worker_datadir: str = "var/worker"
    worker_store: str = "rocksdb://"
    worker_session_timeout_seconds: float = Field(default=30.0, ge=3)
    worker_reverify_signatures: bool = True
    worker_topics_wait_seconds: float = Field(default=60.0, gt=0)
    dedup_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=3 * 3600)
    handler_max_attempts: int = Field(default=3, ge=1)
    handler_backoff_seconds: float = Field(default=0.2, ge=0)
    rules_path: str = ""
    handler_plugins: str = ""
    intercom_version: str = "2.14"
    writer_calls_per_window: int = Field(default=1666, ge=1)
    writer_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    writer_total_timeout_seconds: float = Field(default=20.0, gt=0)
    writer_max_attempts: int = Field(default=6, ge=1)
    writer_backoff_cap_seconds: float = Field(default=60.0, gt=0)
    writer_max_in_flight: int = Field(default=200, ge=1)
    writer_web_port: int = Field(default=6067, ge=1, le=65535)
    writer_datadir: str = "var/writer"
    # The writer's circuit (docs/writer.md): consecutive failures, or this failure ratio over the
    # window, mean Intercom as a whole is failing; then commands are held, not dead-lettered.
    writer_circuit_failures: int = Field(default=5, ge=1)
    writer_circuit_window_seconds: float = Field(default=30.0, gt=0)
    writer_circuit_failure_ratio: float = Field(default=0.8, gt=0, le=1)
    writer_probe_first_seconds: float = Field(default=1.0, gt=0)
    writer_outage_horizon_seconds: float = Field(default=24 * 3600.0, gt=0)
    # At least the command topic's retention (7 days): a command still on it is never resent.
    writer_ledger_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=7 * 24 * 3600)
    topic_partitions: int = Field(default=8, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    topic_notifications: str = DEFAULT_TOPICS["topic_notifications"]
    topic_commands: str = DEFAULT_TOPICS["topic_commands"]
    topic_dead_letter: str = DEFAULT_TOPICS["topic_dead_letter"]
    topic_events_conversations: str = DEFAULT_TOPICS["topic_events_conversations"]
    topic_events_contacts: str = DEFAULT_TOPICS["topic_events_contacts"]
    topic_crm_contacts: str = DEFAULT_TOPICS["topic_crm_contacts"]
    topic_crm_companies: str = DEFAULT_TOPICS["topic_crm_companies"]
    log_level: str = "info"

    def client_secrets(self) -> tuple[bytes, ...]:
        """Return the configured client secrets (current first), or fail closed when none is set."""
        raw = self.intercom_client_secret.get_secret_value()
        secrets = tuple(part.strip().encode() for part in raw.split(","))
        if not raw.strip() or any(not secret for secret in secrets):
            raise ConfigurationError(
                "INTERCOM_CLIENT_SECRET is missing or has an empty entry: refusing to run open"
            )
        return secrets

    def environment(self) -> dict[str, str]:
        """Return the environment variables that reproduce these settings in a child process."""
        return {
            name.upper(): str(value.get_secret_value() if isinstance(value, SecretStr) else value)
            for name, value in self.model_dump().items()
        }

    def bootstrap_servers(self) -> list[str]:
        """Return the broker addresses as a list."""
        return [part.strip() for part in self.kafka_bootstrap_servers.split(",") if part.strip()]
