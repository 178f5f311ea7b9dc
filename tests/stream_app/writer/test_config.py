"""The writer's own configuration: the few values it needs, taken from the settings once."""

from __future__ import annotations

from collections.abc import Callable

from intercom_stream.settings import Settings
from stream_app.writer.breaker import BreakerPolicy
from stream_app.writer.config import WriterConfig
from stream_app.writer.health import HealthPolicy


def test_the_config_takes_the_writer_values_from_the_settings(
    make_settings: Callable[..., Settings],
) -> None:
    """Topics, budget, retries, window, circuit, probes and Intercom come from their settings."""
    settings = make_settings(
        topic_commands="c", topic_partitions=3, writer_calls_per_window=50,
        writer_max_attempts=2, writer_backoff_cap_seconds=9.0, writer_circuit_failures=4,
        intercom_api_url="http://fake/", intercom_access_token="t",
    )  # fmt: skip
    config = WriterConfig.from_settings(settings)
    assert (config.topics.commands, config.topics.replay_commands) == ("c", "c.replay")
    assert config.topics.partitions == 3
    assert (config.calls_per_window, config.max_attempts) == (50, 2)
    assert config.backoff_cap_seconds == 9.0
    assert config.breaker == BreakerPolicy(4, 30.0, 0.8)
    assert config.health == HealthPolicy(1.0, 9.0, 24 * 3600.0)
    assert config.connection.base_url == "http://fake"
    assert config.connection.token.get_secret_value() == "t"
