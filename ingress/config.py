"""The few values the ingress needs, taken from the settings once at the entry point."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intercom_stream.settings import Settings


@dataclass(frozen=True)
class IngressConfig:
    """Secrets, identity, Kafka, spool, limits and topics of one ingress."""

    secrets: tuple[bytes, ...]
    instance_id: str  # empty: host name plus a random suffix, chosen at each start
    bootstrap_servers: tuple[str, ...]
    max_body_bytes: int
    spool_dir: Path
    produce_timeout: float
    read_timeout: float
    keepalive_timeout: float
    max_connections: int
    notifications_topic: str
    dead_letter_topic: str

    @classmethod
    def from_settings(cls, settings: Settings) -> IngressConfig:
        """Take the ingress's values; fails closed when no client secret is configured."""
        return cls(
            secrets=settings.client_secrets(),
            instance_id=settings.ingress_instance_id,
            bootstrap_servers=tuple(settings.bootstrap_servers()),
            max_body_bytes=settings.ingress_max_body_bytes,
            spool_dir=Path(settings.ingress_spool_dir),
            produce_timeout=settings.ingress_produce_timeout_seconds,
            read_timeout=settings.ingress_read_timeout_seconds,
            keepalive_timeout=settings.ingress_keepalive_timeout_seconds,
            max_connections=settings.ingress_max_connections,
            notifications_topic=settings.topic_notifications,
            dead_letter_topic=settings.topic_dead_letter,
        )
