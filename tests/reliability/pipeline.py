"""The whole system as real processes (ingress, workers, writers) beside the fake Intercom."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.support.processes import Process, free_port
from intercom_stream.settings import Settings
from tests.reliability.ledger import Account, Tally, account, committed_lag, wait_for
from tests.reliability.load import Load

HEALTH_PATHS = {"ingress": "/healthz", "worker": "/metrics", "writer": "/writer/health"}
SETTLE_SECONDS = 150.0
# Log lines that explain a stall, and what they mean.
STUCK = {
    "wait_empty: Waiting for tasks": "a rebalance waits for records never acked (stuck)",
    "worker.stopping": "the process stopped itself",
    "writer.rebalance": "the writer dropped in-flight jobs at a rebalance",
}


def pipeline_settings(base: Settings, fake: FakeIntercom, tmp: Path, **extra: object) -> Settings:
    """Return the base settings with the fake's URL, free ports, RocksDB and short timeouts."""
    values: dict[str, object] = {
        "intercom_api_url": fake.url,
        "intercom_access_token": DEFAULT_TOKEN,
        "ingress_port": free_port(),
        "ingress_spool_dir": str(tmp / "spool"),
        "worker_store": "rocksdb://",
        "worker_session_timeout_seconds": 6.0,
        "handler_backoff_seconds": 0.05,
        "writer_calls_per_window": fake.limit,
        "writer_max_attempts": 4,
        "writer_backoff_cap_seconds": 1.0,
        "log_level": "info",
    }
    values.update(extra)
    return base.model_copy(update=values)


@dataclass
class Pipeline:
    """Named processes of the system; each label keeps its ports and data directory."""

    settings: Settings
    tmp: Path
    fake: FakeIntercom
    processes: dict[str, Process] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)

    def settings_for(self, label: str) -> Settings:
        """Return the settings of one labelled process (its own web port and data directory)."""
        return self.settings.model_copy(
            update={
                "worker_web_port": free_port(),
                "writer_web_port": free_port(),
                "worker_datadir": str(self.tmp / f"{label}-data"),
                "writer_datadir": str(self.tmp / f"{label}-data"),
            }
        )

    async def start(self, label: str, settings: Settings | None = None) -> Process:
        """Start (or restart) the labelled process and wait until its web server answers."""
        command = label.split("-")[0]
        old = self.processes.get(label)
        chosen = settings or (old.settings if old else self.settings_for(label))
        process = Process(command, chosen, self.tmp / f"{label}.log").start()
        self.processes[label] = process
        port = {
            "ingress": chosen.ingress_port,
            "worker": chosen.worker_web_port,
            "writer": chosen.writer_web_port,
        }[command]
        await process.wait_http(port, HEALTH_PATHS[command], timeout=90)
        return process

    async def start_all(self) -> None:
        """Start the ingress, one worker and one writer."""
        await asyncio.gather(*(self.start(label) for label in ("ingress", "worker", "writer")))

    def kill(self, label: str, sig: int = signal.SIGKILL) -> None:
        """Signal the labelled process and wait for it to end."""
        self.processes[label].kill(sig)
        self.kills[label] += 1

    async def kill_and_restart(self, label: str) -> None:
        """SIGKILL the labelled process, then start it again with the same settings."""
        self.kill(label)
        await self.start(label)

    def tails(self, lines: int = 25) -> str:
        """Return the last lines of every process's log."""
        parts = [f"--- {name} ---\n{p.log_tail(lines)}" for name, p in self.processes.items()]
        return "\n".join(parts)

    def diagnose(self) -> str:
        """Name known signatures of a stuck process found in the logs, for failure messages."""
        found = []
        for label, process in self.processes.items():
            text = process.log_path.read_text(errors="replace")
            for signature, meaning in STUCK.items():
                if count := text.count(signature):
                    found.append(f"{label}: {meaning} ({count}x {signature!r})")
        return "diagnosis: " + ("; ".join(found) or "no known signature")

    async def dump_stacks(self, timeout: float = 15.0) -> str:
        """Ask every live faust process to log its task stacks (mode's SIGUSR1); name the logs.

        Called when a scenario fails, so a stall leaves the stacks that explain it beside the
        log tails instead of only "never caught up".
        """
        faust = [p for p in self.processes.values() if p.command != "ingress"]
        asked = [p for p in faust if p.send_signal(signal.SIGUSR1)]
        with contextlib.suppress(AssertionError):  # a wedged process may never write them
            await wait_for(
                lambda: all("TASKS" in p.log_path.read_text(errors="replace") for p in asked),
                timeout,
                lambda: "task stacks not written",
            )
        return "task stacks in: " + ", ".join(str(p.log_path) for p in asked)

    def stop_all(self) -> None:
        """Kill every process."""
        for process in self.processes.values():
            process.kill()


async def run_load(load: Load, faults: Callable[[Load], Awaitable[None]]) -> None:
    """Run the load and, beside it, the scenario's faults; fail clearly if the load fails."""
    task = asyncio.create_task(load.run())
    try:
        await faults(load)
    finally:
        await task


async def until_posted(load: Load, count: int, timeout: float = 120.0) -> None:
    """Wait until the load has had `count` answers (a trigger for a fault)."""
    await wait_for(lambda: load.done >= count, timeout, lambda: f"{load.done} of {count} posted")


async def settle(pipe: Pipeline, load: Load, timeout: float = SETTLE_SECONDS) -> Account:
    """Wait until every 2xx notification and command is accounted for and both groups caught up."""
    tally = Tally(pipe.settings)
    await tally.start()
    started = time.monotonic()
    try:
        ok = load.ok()
        try:
            await wait_for(
                lambda: account(ok, tally, pipe.fake).lost == 0,
                timeout,
                lambda: f"{account(ok, tally, pipe.fake).brief()}\n{pipe.diagnose()}",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{pipe.tails()}\n{await pipe.dump_stacks()}") from None
        lag: dict[str, int] = {}
        left = max(30.0, timeout - (time.monotonic() - started))
        try:
            async with asyncio.timeout(left):
                while True:
                    lag = await committed_lag(pipe.settings)
                    if not any(lag.values()):
                        break
                    await asyncio.sleep(0.5)  # polling interval; the timeout bounds the wait
        except TimeoutError:
            tails, stacks = pipe.tails(), await pipe.dump_stacks()
            raise AssertionError(f"groups never caught up: {lag}\n{tails}\n{stacks}") from None
        return account(ok, tally, pipe.fake)
    finally:
        await tally.stop()


def assert_clean(load: Load, result: Account) -> None:
    """Assert every webhook was answered 200 and nothing was lost, sent twice or dead-lettered."""
    assert load.statuses() == {200: len(load.postings)}, load.statuses()
    assert result.lost == 0, result.brief()
    assert result.sent_twice == {}, result.brief()
    assert result.dead_notifications == {}, result.dead_notifications
    assert result.dead_commands == {}, result.dead_commands
