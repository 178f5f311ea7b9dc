"""Reads the deployment files that cannot run here (no Docker engine) and checks their shape."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from intercom_stream.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def compose() -> dict:
    """Return docker-compose.yml parsed."""
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_runs_kafka_in_kraft_mode_with_the_official_image() -> None:
    """The kafka service uses apache/kafka with a combined broker+controller."""
    kafka = compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"


def test_compose_kafka_image_is_the_version_kafka_sh_runs_by_default() -> None:
    """docker-compose.yml and dev/kafka/kafka.sh run the same default Kafka version."""
    script = (REPO / "dev" / "kafka" / "kafka.sh").read_text()
    match = re.search(r"^version=\$\{KAFKA_VERSION:-([0-9.]+)\}$", script, re.MULTILINE)
    assert match, "kafka.sh sets no default KAFKA_VERSION"
    assert compose()["services"]["kafka"]["image"] == f"apache/kafka:{match.group(1)}"


def test_compose_app_services_use_settings_that_exist() -> None:
    """ingress, worker and topics are built here and set only variables Settings reads."""
    services = compose()["services"]
    fields = {name.upper() for name in Settings.model_fields}
    commands = ("ingress", "worker", "writer", "topics")
    for name, command in zip(commands, commands, strict=True):
        service = services[name]
        assert service["build"] == "."
        assert service["command"][0] == command
        assert set(service["environment"]) <= fields, name
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert services["ingress"]["depends_on"]["topics"]["condition"] == (
        "service_completed_successfully"
    )


def test_procfile_names_web_worker_and_writer() -> None:
    """The Procfile runs the ingress as web, the faust worker and the writer."""
    lines = dict(
        line.split(":", 1) for line in (REPO / "Procfile").read_text().splitlines() if line
    )
    assert lines["web"].strip() == "intercom-stream ingress"
    assert lines["worker"].strip() == "intercom-stream worker"
    assert lines["writer"].strip() == "intercom-stream writer"


def test_dockerfile_installs_every_package() -> None:
    """The image copies each top-level package and runs the console script."""
    text = (REPO / "Dockerfile").read_text()
    for package in ("intercom_stream", "ingress", "stream_app", "schemas"):
        assert f"COPY {package} {package}" in text
    assert 'ENTRYPOINT ["intercom-stream"]' in text
