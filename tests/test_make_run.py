"""`make run` as a newcomer runs it: the three processes answer, and no secret is ever printed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from pathlib import Path

import aiohttp
import pytest

from dev.support.processes import free_port, wait_answering
from intercom_stream import samples
from intercom_stream.settings import Settings
from intercom_stream.signature import sign
from tests.support.broker import REPO
from tests.support.kafka import collect_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def run_environment(settings: Settings, tmp_path: Path, secret: str, token: str) -> dict[str, str]:
    """Return the shell of a user with real secrets, this test's topics, ports and directories."""
    env = {**os.environ, **settings.environment()}
    env.update(
        INTERCOM_CLIENT_SECRET=secret,
        INTERCOM_ACCESS_TOKEN=token,
        INTERCOM_API_URL=f"http://127.0.0.1:{free_port()}",  # refuses: the writer logs errors
        INGRESS_PORT=str(free_port()),
        WORKER_WEB_PORT=str(free_port()),
        WRITER_WEB_PORT=str(free_port()),
        WORKER_DATADIR=str(tmp_path / "worker"),
        WRITER_DATADIR=str(tmp_path / "writer"),
        INGRESS_SPOOL_DIR=str(tmp_path / "spool"),
        WORKER_STORE="rocksdb://",
    )
    return env


async def wait_until_answers(url: str, output: Path, timeout: float = 120.0) -> None:
    """Poll the URL until it answers below 500, failing with make's output."""
    await wait_answering(
        url, timeout, lambda: None, lambda: output.read_text(errors="replace")[-4000:]
    )


async def post(url: str, body: bytes, signature: str) -> int:
    """POST one notification with the given signature header and return the status."""
    headers = {"Content-Type": "application/json", "X-Hub-Signature": signature}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


async def test_make_run_prints_no_secret_and_no_token(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """Signed and badly signed webhooks, a writer failing to reach Intercom: neither value shows."""
    secret, token = f"secret-{uuid.uuid4().hex}", f"token-{uuid.uuid4().hex}"
    env = run_environment(kafka_settings, tmp_path, secret, token)
    output = tmp_path / "make-run.log"
    with output.open("wb") as sink:
        make = await asyncio.create_subprocess_exec(
            "make",
            "--no-print-directory",
            "run",
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        webhook = f"http://127.0.0.1:{env['INGRESS_PORT']}/webhooks/intercom"
        await wait_until_answers(f"http://127.0.0.1:{env['INGRESS_PORT']}/healthz", output)
        await wait_until_answers(f"http://127.0.0.1:{env['WORKER_WEB_PORT']}/metrics", output)
        await wait_until_answers(
            f"http://127.0.0.1:{env['WRITER_WEB_PORT']}/writer/metrics", output
        )
        body = samples.notification_bytes(topic="conversation.user.created")
        assert await post(webhook, body, sign(body, secret.encode())) == 200
        assert await post(webhook, body, sign(body, b"not-the-secret")) == 401
        await collect_until(
            kafka_settings.kafka_bootstrap_servers, kafka_settings.topic_commands, bool, 90
        )
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        async with asyncio.timeout(60):
            await make.wait()
    printed = await asyncio.to_thread(output.read_text, errors="replace")
    assert "try:" in printed
    assert secret not in printed
    assert token not in printed
