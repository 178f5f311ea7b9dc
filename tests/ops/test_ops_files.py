"""The alert rules, dashboard and compose services reference files and sections that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def anchors(markdown: str) -> set[str]:
    """Return the GitHub anchors of the document's headings."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_alert_has_a_severity_and_a_runbook_section_that_exists() -> None:
    """Each rule links docs/runbook.md#section, and that section is a heading there."""
    rules = yaml.safe_load((REPO / "ops/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    sections = anchors((REPO / "docs/runbook.md").read_text())
    for rule in rules:
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), rule["alert"]
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert (page, anchor in sections) == ("docs/runbook.md", True), rule["alert"]


def test_compose_loads_the_rules_and_the_dashboard() -> None:
    """prometheus mounts its config and rules, grafana the provisioning and the dashboard."""
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    mounts = [
        v.split(":")[0] for name in ("prometheus", "grafana") for v in services[name]["volumes"]
    ]
    assert all((REPO / mount).exists() for mount in mounts), mounts
    config = yaml.safe_load((REPO / "ops/prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {job["job_name"]: job["metrics_path"] for job in config["scrape_configs"]}
    assert jobs["writer"] == "/writer/metrics"
    assert services["ops-exporter"]["command"][0] == "exporter"
    dashboard = json.loads((REPO / "ops/grafana/intercom-stream.json").read_text())
    assert {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]} == {
        "prometheus"
    }
