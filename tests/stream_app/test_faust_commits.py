"""Commits only on faust's timer, never inline in its fetch loop (stream_app.faust.declare)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from faust.transport.consumer import Consumer

from stream_app.faust.declare import COMMIT_EVERY, create_faust_app


def test_the_app_never_reaches_faust_s_inline_commit_count(
    make_settings: Any, tmp_path: Path
) -> None:
    """No process acknowledges 2**62 records: only the 2.8 s timer commits."""
    app = create_faust_app(make_settings(), "commit-test", 6070, str(tmp_path))
    assert app.conf.broker_commit_every == COMMIT_EVERY >= 1 << 62
    assert app.conf.broker_commit_interval == 2.8


def test_faust_commits_inline_in_its_fetch_loop_every_commit_every_acks() -> None:
    """The behaviour the setting avoids: the drain loop awaits a commit before its next record."""
    source = inspect.getsource(Consumer._drain_messages)
    count = source.index("self._n_acked >= commit_every")
    assert count < source.index("await self.commit()") < source.index("await self.wait_first(")


def test_faust_also_commits_on_its_timer() -> None:
    """What still commits: a service task every `broker_commit_interval`."""
    source = inspect.getsource(Consumer._commit_handler.fun)  # a service task of the consumer
    assert "self.commit_interval" in source
    assert "await self.commit()" in source
