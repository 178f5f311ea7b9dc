"""Every metric the dashboard and the alert rules query exists on a running process's /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from dev.support.processes import Process, free_port
from intercom_stream.settings import Settings
from tests.ops.conftest import ExporterProcess

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
METRIC = re.compile(r"\b(?:intercom_|ingress_|kafka_consumergroup_)[a-z_]+\b")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count")}


def queried_names() -> set[str]:
    """Return every metric name in the dashboard's and the alert rules' expressions."""
    dashboard = json.loads((REPO / "ops/grafana/intercom-stream.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load((REPO / "ops/prometheus/alerts.yml").read_text())
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return {name for expr in exprs for name in METRIC.findall(expr)}


def exposed_names(text: str) -> set[str]:
    """Return every sample name the exposition declares, observed or not yet."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


async def scrape(urls: list[str]) -> set[str]:
    """Return the names exposed by all the URLs."""
    names: set[str] = set()
    async with aiohttp.ClientSession() as session:
        for url in urls:
            async with session.get(url) as response:
                assert response.status == 200, url
                names |= exposed_names(await response.text())
    return names


async def test_dashboard_and_alerts_query_only_exposed_metrics(
    ops_settings: Settings,
    worker_process: Process,
    writer_process: Process,
    exporter_process: ExporterProcess,
    tmp_path: Path,
) -> None:
    """Scrape ingress, worker, writer and exporter; each queried name is declared by one."""
    settings = ops_settings.model_copy(update={"ingress_port": free_port()})
    ingress = Process("ingress", settings, tmp_path / "ingress.log").start()
    try:
        await ingress.wait_http(settings.ingress_port, "/metrics")
        names = await scrape([
            f"http://127.0.0.1:{settings.ingress_port}/metrics",
            f"http://127.0.0.1:{settings.worker_web_port}/metrics",
            f"http://127.0.0.1:{settings.writer_web_port}/writer/metrics",
            f"http://127.0.0.1:{exporter_process.port}/metrics",
        ])  # fmt: skip
    finally:
        ingress.kill()
    queried = queried_names()
    assert len(queried) >= 20
    assert queried - names == set()
