"""The ingress process's signal handling: the first signal stops gracefully, a second exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TWO_SIGNALS = """
import asyncio, os, signal
from ingress.main import watch_signals
from intercom_stream import logs

async def main():
    logs.configure("info")
    first = watch_signals(asyncio.get_running_loop())
    os.kill(os.getpid(), signal.SIGTERM)
    print("first:", (await first).name, flush=True)
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(10)
    print("still running", flush=True)

asyncio.run(main())
"""


def test_the_first_signal_is_reported_and_a_second_one_exits_at_once() -> None:
    """SIGTERM resolves the watch (graceful stop); a second signal exits with 128 + its number."""
    done = subprocess.run(
        [sys.executable, "-c", TWO_SIGNALS], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 130, done.stderr
    assert "first: SIGTERM" in done.stdout
    assert '"event":"ingress.forced_exit"' in done.stdout
    assert "still running" not in done.stdout
