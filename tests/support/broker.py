"""Finds a real Kafka broker for the tests: the environment's, a testcontainer, or the local one."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO / "dev" / "kafka" / "kafka.sh"


class BrokerUnavailable(RuntimeError):
    """No Kafka broker could be had; the message says why."""


def docker_socket_accepts() -> bool:
    """Whether DOCKER_HOST (default: the local unix socket) accepts a connection."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return True
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(host.removeprefix("unix://"))
    except OSError:
        return False
    return True


def docker_answers() -> bool:
    """Whether a Docker engine answers a ping."""
    if not docker_socket_accepts():
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@contextlib.contextmanager
def testcontainer_broker() -> Iterator[str]:
    """Run Kafka in a container and yield its bootstrap address."""
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as container:
        yield container.get_bootstrap_server()


def local_broker_running() -> bool:
    """Whether the local broker of dev/kafka already answers."""
    return (
        subprocess.run([KAFKA_SCRIPT, "status"], capture_output=True, check=False).returncode == 0
    )


@contextlib.contextmanager
def local_broker() -> Iterator[str]:
    """Start the dev/kafka broker unless it runs already; stop it afterwards if this started it."""
    started = not local_broker_running()
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    result = subprocess.run(
        [KAFKA_SCRIPT, "up"], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise BrokerUnavailable(f"dev/kafka/kafka.sh up failed:\n{result.stdout}\n{result.stderr}")
    try:
        yield f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"
    finally:
        if started:
            subprocess.run([KAFKA_SCRIPT, "down"], capture_output=True, env=env, check=False)


@contextlib.contextmanager
def kafka_broker() -> Iterator[str]:
    """Yield a bootstrap address: KAFKA_BOOTSTRAP_SERVERS, else a testcontainer, else dev/kafka."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
    elif docker_answers():
        with testcontainer_broker() as address:
            yield address
    else:
        with local_broker() as address:
            yield address
