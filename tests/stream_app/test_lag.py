"""Consumer lag per partition in records and seconds, read at scrape time, with a lane label."""

from __future__ import annotations

import faust
from faust.types import TP
from prometheus_client import CollectorRegistry

from schemas import headers
from stream_app.lag import LagCollector, Progress, app_lag_collector, lane_of, lane_of_topic
from stream_app.source import Source

NOW = 1_763_700_000.0


def scrape(
    progress: Progress, ends: dict[int, int], committed: dict[int, int]
) -> CollectorRegistry:
    """Return a registry holding a lag collector over partitions 0..2 of `t` and `t.replay`."""
    registry = CollectorRegistry()
    assigned = [("t", 0), ("t", 1), ("t", 2), ("t.replay", 0)]
    collector = LagCollector(
        "g", progress, lambda: assigned,
        (lambda topic, p: ends.get(p), lambda topic, p: committed.get(p)),
        lane_of_topic, clock=lambda: NOW,
    )  # fmt: skip
    registry.register(collector)
    return registry


def test_lag_counts_records_behind_and_the_age_of_the_last_finished_one() -> None:
    """Behind: the age of the last finished record; caught up: 0 s; unknown: no sample."""
    progress = Progress()
    progress.finished(Source("t", 0, 9, None, b"", (), int((NOW - 30) * 1000)))
    progress.finished(Source("t", 1, 4, None, b"", (), int((NOW - 50) * 1000)))
    registry = scrape(progress, {0: 15, 1: 5, 2: 8}, {0: 10, 2: 8})
    value = lambda name, p, topic="t": registry.get_sample_value(  # noqa: E731
        name, {"group": "g", "topic": topic, "partition": str(p), "lane": lane_of_topic(topic)}
    )
    assert value("kafka_consumergroup_group_lag", 0) == 5
    assert value("kafka_consumergroup_group_lag_seconds", 0) == 30
    assert value("kafka_consumergroup_group_lag", 1) == 0
    assert value("kafka_consumergroup_group_lag_seconds", 1) == 0
    assert value("kafka_consumergroup_group_lag", 2) == 0  # restarted, nothing new: committed
    assert value("kafka_consumergroup_group_lag", 0, "t.replay") == 5


def test_lanes_come_from_the_replay_header_and_the_replay_topic() -> None:
    """A record with replay: true is in the replay lane; so is anything on `<topic>.replay`."""
    replayed = Source("t", 0, 1, None, b"", ((headers.REPLAY, b"true"),))
    assert (lane_of(replayed), lane_of(Source("t", 0, 1, None, b""))) == ("replay", "live")
    assert (lane_of_topic("x.notifications.replay"), lane_of_topic("x.notifications")) == (
        "replay", "live",
    )  # fmt: skip


def test_records_finishing_out_of_order_leave_no_lag_behind() -> None:
    """The writer finishes commands in any order: the furthest one counts, not the last one."""
    progress = Progress()
    for offset in (1317, 1319, 1318, 1316):  # 1316 finishes last
        progress.finished(Source("t", 0, offset, None, b"", (), int((NOW - 5) * 1000)))
    registry = scrape(progress, {0: 1320}, {})
    labels = {"group": "g", "topic": "t", "partition": "0", "lane": "live"}
    assert registry.get_sample_value("kafka_consumergroup_group_lag", labels) == 0
    assert progress.last[("t", 0)][0] == 1319


async def test_a_revoked_partition_s_progress_is_forgotten() -> None:
    """After a revocation the partition is read again from its commit, so its lag counts again."""
    app = faust.App("lag-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    progress = Progress()
    app_lag_collector(app, progress)
    progress.finished(Source("t", 0, 9, None, b""))
    progress.finished(Source("t", 1, 4, None, b""))
    await app.on_partitions_revoked.send({TP("t", 0)})
    assert list(progress.last) == [("t", 1)]
