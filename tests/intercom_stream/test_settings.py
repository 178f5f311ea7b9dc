"""Unit tests of the settings object."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from intercom_stream.errors import ConfigurationError
from intercom_stream.settings import Settings


def test_defaults_match_the_documented_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without environment, the defaults are the documented ones."""
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "INGRESS_PORT", "TOPIC_PARTITIONS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.ingress_port == 8080
    assert settings.worker_web_port == 6066
    assert settings.topic_partitions == 8
    assert settings.intercom_api_url == "https://api.intercom.io"
    assert (settings.topic_notifications, settings.topic_commands, settings.topic_dead_letter) == (
        "intercom.notifications",
        "intercom.commands",
        "intercom.dead-letter",
    )


def test_environment_sets_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment variables with the documented names override the defaults."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "a:1, b:2")
    monkeypatch.setenv("TOPIC_PARTITIONS", "3")
    monkeypatch.setenv("INTERCOM_CLIENT_SECRET", "current,previous")
    settings = Settings()
    assert settings.bootstrap_servers() == ["a:1", "b:2"]
    assert settings.topic_partitions == 3
    assert settings.client_secrets() == (b"current", b"previous")


@pytest.mark.parametrize("raw", ["", "  ", "a,,b", "a, "])
def test_empty_secret_fails_closed(raw: str) -> None:
    """A missing or empty secret entry raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="INTERCOM_CLIENT_SECRET"):
        Settings(intercom_client_secret=raw).client_secrets()  # type: ignore[arg-type]


def test_secrets_are_not_in_the_repr() -> None:
    """Secrets never appear when settings are printed or logged."""
    settings = Settings(intercom_client_secret="topsecret", intercom_access_token="tok")  # type: ignore[arg-type]
    assert "topsecret" not in repr(settings)
    assert "tok'" not in repr(settings)


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after construction."""
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.ingress_port = 1  # type: ignore[misc]
