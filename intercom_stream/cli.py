"""The `intercom-stream` command line: one subcommand per process or operation."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import aiohttp
from pydantic import ValidationError

from intercom_stream import logs, samples
from intercom_stream.errors import ConfigurationError, TopicError
from intercom_stream.settings import Settings

EXIT_CONFIG = 78


def run_ingress(settings: Settings, _: argparse.Namespace) -> int:
    """Serve the webhook endpoint until SIGTERM or SIGINT."""
    from ingress.main import serve

    return serve(settings)


def run_worker(settings: Settings, _: argparse.Namespace) -> int:
    """Run the faust worker in the foreground."""
    import faust

    from stream_app.app import create_app

    worker = faust.Worker(create_app(settings), loglevel=settings.log_level, redirect_stdouts=False)
    worker.execute_from_commandline()  # exits the process when the worker stops


def run_writer(settings: Settings, _: argparse.Namespace) -> int:
    """Run the Intercom writer (its own faust app) in the foreground."""
    import faust

    from stream_app.app import create_writer_app

    app = create_writer_app(settings)
    faust.Worker(
        app, loglevel=settings.log_level, redirect_stdouts=False
    ).execute_from_commandline()


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
    from ingress.signature import HEADER, sign

    body = samples.notification_bytes(topic=args.topic)
    headers = {"Content-Type": "application/json"}
    if not args.unsigned:
        headers[HEADER] = sign(body, settings.client_secrets()[0])
    url = args.url or f"http://127.0.0.1:{settings.ingress_port}/webhooks/intercom"

    async def post() -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    status, text = asyncio.run(post())
    print(f"POST {url} -> {status} {text}")
    return 0 if status == 200 or (args.unsigned and status == 401) else 1


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
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the settings from the environment, and run the subcommand."""
    args = parser().parse_args(argv)
    try:
        settings = Settings()
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
