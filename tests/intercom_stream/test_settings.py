"""Unit tests of the settings object."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from intercom_stream.errors import ConfigurationError
from intercom_stream.settings import Settings, namespaced_topics


def test_defaults_match_the_documented_names() -> None:
    """Without environment, the defaults are the documented ones."""
    settings = Settings.from_env({})
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
    assert namespaced_topics("t-1")["topic_events_contacts"] == "t-1.events.contacts"


def test_environment_sets_values() -> None:
    """Environment variables with the documented names override the defaults."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "a:1, b:2",
        "TOPIC_PARTITIONS": "3",
        "INTERCOM_CLIENT_SECRET": "current,previous",
        "UNRELATED": "ignored",
    }
    settings = Settings.from_env(env)
    assert settings.bootstrap_servers() == ["a:1", "b:2"]
    assert settings.topic_partitions == 3
    assert settings.client_secrets() == (b"current", b"previous")


@pytest.mark.parametrize("raw", ["", "  ", "a,,b", "a, "])
def test_empty_secret_fails_closed(raw: str) -> None:
    """A missing or empty secret entry raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="INTERCOM_CLIENT_SECRET"):
        Settings(intercom_client_secret=raw).client_secrets()


def test_secrets_are_not_in_the_repr() -> None:
    """Secrets never appear when settings are printed or logged."""
    settings = Settings(intercom_client_secret="topsecret", intercom_access_token="tok")
    assert "topsecret" not in repr(settings)
    assert "tok'" not in repr(settings)


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after construction."""
    settings = Settings.from_env({})
    with pytest.raises(ValidationError):
        settings.ingress_port = 1  # type: ignore[misc]


def test_constructing_settings_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exported variable changes nothing unless the entry point passes the environment."""
    monkeypatch.setenv("INTERCOM_API_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("TOPIC_PARTITIONS", "not-a-number")
    assert Settings().intercom_api_url == "https://api.intercom.io"
    assert Settings.from_env({"INTERCOM_API_URL": "http://x"}).intercom_api_url == "http://x"


def test_overrides_win_over_the_environment() -> None:
    """from_env's keyword overrides replace values read from the mapping."""
    settings = Settings.from_env({"INGRESS_PORT": "9000"}, ingress_port=9100)
    assert settings.ingress_port == 9100


def test_a_misspelt_setting_is_refused() -> None:
    """A keyword that is no setting fails loudly instead of being ignored."""
    with pytest.raises(ValidationError, match="ingres_port"):
        Settings(ingres_port=1)  # type: ignore[call-arg]


def test_settings_round_trip_through_the_environment() -> None:
    """A child process given environment() builds the same settings."""
    settings = Settings.from_env({"INTERCOM_CLIENT_SECRET": "s", "TOPIC_PARTITIONS": "5"})
    assert Settings.from_env(settings.environment()) == settings
