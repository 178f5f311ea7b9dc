"""The ingress's own configuration: the few values it needs, taken from the settings once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingress.config import IngressConfig
from intercom_stream.errors import ConfigurationError
from intercom_stream.settings import Settings


def test_the_config_takes_the_ingress_values_from_the_settings(
    make_settings: Callable[..., Settings],
) -> None:
    """Secrets (current first), brokers, limits, spool and topics come from their settings."""
    settings = make_settings(
        intercom_client_secret="new, old", kafka_bootstrap_servers="a:1, b:2",
        ingress_spool_dir="/var/spool/x", ingress_max_connections=7, topic_notifications="n",
    )  # fmt: skip
    config = IngressConfig.from_settings(settings)
    assert config.secrets == (b"new", b"old")
    assert config.bootstrap_servers == ("a:1", "b:2")
    assert config.spool_dir == Path("/var/spool/x")
    assert (config.max_connections, config.notifications_topic) == (7, "n")
    assert config.dead_letter_topic == settings.topic_dead_letter
    assert config.read_timeout == settings.ingress_read_timeout_seconds


@pytest.mark.parametrize("secret", ["", " ", "current,"])
def test_no_config_without_a_client_secret(
    make_settings: Callable[..., Settings], secret: str
) -> None:
    """A missing secret, or an empty entry, fails closed before an ingress can be built."""
    with pytest.raises(ConfigurationError, match="INTERCOM_CLIENT_SECRET"):
        IngressConfig.from_settings(make_settings(intercom_client_secret=secret))
