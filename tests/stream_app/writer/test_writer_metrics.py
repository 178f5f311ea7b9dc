"""The writer's command counters by lane, its retries and its budget gauges."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mode.signals import Signal

from schemas import headers
from stream_app.source import Source
from stream_app.writer.limiter import RateLimiter
from stream_app.writer.metrics import WriterMetrics
from tests.fakes.clock import FakeClock


async def test_finished_commands_are_counted_by_lane_with_their_retries() -> None:
    """Attempts beyond the first are retries; a replayed command is in the replay lane."""
    metrics = WriterMetrics()
    metrics.finished(Source("c", 0, 1, None, b""), "accepted", attempts=3)
    metrics.finished(Source("c", 0, 2, None, b"", ((headers.REPLAY, b"true"),)), "duplicate")
    value = metrics.registry.get_sample_value
    assert value("intercom_writer_commands_total", {"result": "accepted", "lane": "live"}) == 1
    assert value("intercom_writer_commands_total", {"result": "duplicate", "lane": "replay"}) == 1
    assert value("intercom_writer_retries_total", {"lane": "live"}) == 2
    assert metrics.progress.last[("c", 0)] == (2, None)


async def test_budget_gauges_read_the_limiter_at_scrape_time(clock: FakeClock) -> None:
    """Used is the calls of the last window span; remaining is the share minus used."""
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    metrics = WriterMetrics()
    revoked = Signal[Any]()  # faust's App.on_partitions_revoked, which the lag collector joins
    app = SimpleNamespace(
        conf=SimpleNamespace(id="w"), consumer=None, on_partitions_revoked=revoked
    )
    metrics.watch(app, limiter)
    for _ in range(3):
        await limiter.acquire()
        limiter.observe(None)  # answered: the next call may go
    value = metrics.registry.get_sample_value
    assert (value("intercom_writer_budget_used"), value("intercom_writer_budget_remaining")) == (
        3,
        7,
    )
    clock.advance(11)
    assert value("intercom_writer_budget_used") == 0
