"""The `intercom-stream` command line: one subcommand per process or operation."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from intercom_stream import logs, samples
from intercom_stream.errors import ConfigurationError, TopicError
from intercom_stream.settings import DEVELOPMENT_SECRET, Settings

EXIT_CONFIG = 78
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end on an event loop of its own thread.

    faust takes the main thread's event loop when its worker starts; `asyncio.run` here would
    leave that thread without one.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def create_topics_first(settings: Settings) -> None:
    """Create or check every topic the process reads or writes, its changelogs included."""
    from intercom_stream.topics import ensure_topics

    run_apart(ensure_topics(settings))


def run_ingress(settings: Settings, _: argparse.Namespace) -> int:
    """Serve the webhook endpoint until SIGTERM or SIGINT."""
    from ingress.main import serve

    return serve(settings)


def run_worker(settings: Settings, _: argparse.Namespace) -> int:
    """Run the faust worker in the foreground."""
    from stream_app.app import create_app
    from stream_app.faust.runtime import worker

    create_topics_first(settings)
    # exits the process when the worker stops
    worker(create_app(settings), settings.log_level).execute_from_commandline()


def run_writer(settings: Settings, _: argparse.Namespace) -> int:
    """Run the Intercom writer (its own faust app) in the foreground."""
    from stream_app.app import create_writer_app
    from stream_app.faust.runtime import worker

    create_topics_first(settings)
    worker(create_writer_app(settings), settings.log_level).execute_from_commandline()


def run_schemas(_: Settings, args: argparse.Namespace) -> int:
    """Write the JSON Schema of every message to a directory."""
    from schemas.export import write_json_schemas

    for path in write_json_schemas(Path(args.directory)):
        print(path)
    return 0


def run_topics(settings: Settings, args: argparse.Namespace) -> int:
    """Create the system's topics idempotently and print what was done."""
    from intercom_stream.topics import ensure_topics

    created = asyncio.run(ensure_topics(settings))
    for name in created:
        print(f"created {name}")
    print(f"topics ready ({settings.topic_partitions} partitions each)")
    return 0


def run_send_test_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """POST a sample notification, signed with the current secret unless --unsigned."""
    import aiohttp  # here, not at the top: every other subcommand starts without it

    from intercom_stream.signature import HEADER, sign

    body = samples.notification_bytes(topic=args.topic)
    headers = {"Content-Type": "application/json"}
    url = args.url or f"http://127.0.0.1:{settings.ingress_port}/webhooks/intercom"
    if not args.unsigned:
        headers[HEADER] = sign(body, signing_secret(settings, url))

    async def post() -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    status, text = asyncio.run(post())
    print(f"POST {url} -> {status} {text}")
    return 0 if status == 200 or (args.unsigned and status == 401) else 1


def signing_secret(settings: Settings, url: str) -> bytes:
    """Return the current client secret; the development one for a local ingress without one.

    `make run` starts the ingress with the development secret when none is set, so a newcomer's
    second shell, which has no secret either, signs as that ingress expects. A remote URL
    never gets this fallback: it fails closed.
    """
    if settings.intercom_client_secret.get_secret_value().strip():
        return settings.client_secrets()[0]
    if urlsplit(url).hostname not in LOCAL_HOSTS:
        return settings.client_secrets()[0]  # raises: no secret for a remote ingress
    print(
        "INTERCOM_CLIENT_SECRET is not set: signing with the development secret "
        f"'{DEVELOPMENT_SECRET}', as `make run` uses for a local ingress",
        file=sys.stderr,
    )
    return DEVELOPMENT_SECRET.encode()


def parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    root = argparse.ArgumentParser(prog="intercom-stream", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("ingress", help="serve the webhook endpoint").set_defaults(run=run_ingress)
    sub.add_parser("worker", help="run the faust worker").set_defaults(run=run_worker)
    sub.add_parser("writer", help="run the Intercom writer").set_defaults(run=run_writer)
    topics = sub.add_parser("topics", help="manage the system's topics")
    topics.add_argument("action", choices=["create"])
    topics.set_defaults(run=run_topics)
    schemas = sub.add_parser("schemas", help="export the JSON Schemas of every message")
    schemas.add_argument("action", choices=["export"])
    schemas.add_argument("directory", nargs="?", default="docs/schemas")
    schemas.set_defaults(run=run_schemas)
    test = sub.add_parser("send-test-webhook", help="send a signed sample notification")
    test.add_argument("--url", help="webhook URL (default: the local ingress)")
    test.add_argument("--topic", default="conversation.user.created")
    test.add_argument("--unsigned", action="store_true", help="omit the signature (expect 401)")
    test.set_defaults(run=run_send_test_webhook)
    from intercom_stream.ops.commands import register as register_ops

    register_ops(sub)
    from intercom_stream.reads.commands import register as register_reads

    register_reads(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the settings from the environment, and run the subcommand."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ValidationError as exc:
        print(f"intercom-stream: invalid settings: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_level)
    run: Callable[[Settings, argparse.Namespace], int] = args.run
    try:
        return run(settings, args)
    except (ConfigurationError, TopicError) as exc:
        print(f"intercom-stream: {exc}", file=sys.stderr)
        return EXIT_CONFIG
