"""The command line: which secret send-test-webhook signs with, and the README's second shell."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dev.support.processes import Process, free_port
from intercom_stream.cli import signing_secret
from intercom_stream.errors import ConfigurationError
from intercom_stream.settings import DEVELOPMENT_SECRET, Settings

LOCAL = "http://127.0.0.1:8080/webhooks/intercom"


def test_a_configured_secret_signs(make_settings: Callable[..., Settings]) -> None:
    """With INTERCOM_CLIENT_SECRET set, its current (first) entry signs, whatever the URL."""
    settings = make_settings(intercom_client_secret="mine,old")
    assert signing_secret(settings, "https://hooks.example.com/webhooks/intercom") == b"mine"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_a_local_ingress_without_a_secret_gets_the_development_one(
    make_settings: Callable[..., Settings], host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `make run` starts the ingress with the development secret, the CLI signs with it."""
    settings = make_settings(intercom_client_secret="")
    assert signing_secret(settings, f"http://{host}:8080/x") == DEVELOPMENT_SECRET.encode()
    assert "development secret" in capsys.readouterr().err


def test_a_remote_ingress_without_a_secret_fails_closed(
    make_settings: Callable[..., Settings],
) -> None:
    """No fallback for another host: a missing secret is an error there."""
    settings = make_settings(intercom_client_secret="")
    with pytest.raises(ConfigurationError, match="INTERCOM_CLIENT_SECRET"):
        signing_secret(settings, "https://hooks.example.com/webhooks/intercom")


@pytest.mark.integration
async def test_the_readmes_second_shell_works_as_written(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """An ingress started as `make run` does; `send-test-webhook` from a bare shell gets 200."""
    settings = kafka_settings.model_copy(
        update={"ingress_port": free_port(), "intercom_client_secret": DEVELOPMENT_SECRET}
    )
    ingress = Process("ingress", settings, tmp_path / "ingress.log").start()
    try:
        await ingress.wait_http(settings.ingress_port, "/healthz")
        shell = {k: v for k, v in os.environ.items() if k != "INTERCOM_CLIENT_SECRET"}
        shell["INGRESS_PORT"] = str(settings.ingress_port)
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "intercom_stream", "send-test-webhook"],
            env=shell,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "-> 200" in result.stdout
    finally:
        ingress.kill()
