"""The `dlq` subcommands: argument parsing and printing around intercom_stream.ops.dlq."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import TypeAlias

from rich.console import Console

from intercom_stream.ops import dlq
from intercom_stream.ops.render import Progress, fields, plain, rows
from intercom_stream.ops.timespec import iso, parse_instant
from intercom_stream.settings import Settings

COLUMNS = ["id", "stage", "error_type", "intercom_topic", "source_topic", "failed_at", "reason"]
EXIT_NOT_FOUND = 2


def selection(args: argparse.Namespace) -> dlq.Selection:
    """Return the selection the filters and ids describe."""
    since = getattr(args, "since", None)
    return dlq.Selection(
        ids=tuple(getattr(args, "ids", None) or ()),
        stage=getattr(args, "stage", None),
        error_type=getattr(args, "error_type", None),
        topic=getattr(args, "topic", None),
        since_ms=parse_instant(since, time.time()) if since else None,
        include_resolved=getattr(args, "all", False),
    )


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    """Print the unresolved (or, with --all, every) dead letter that matches the filters."""
    console = Console()
    found = asyncio.run(dlq.load(settings))
    chosen = found.select(selection(args))
    summaries = [entry.summary() for entry in chosen]
    rows(console, summaries, COLUMNS + (["resolved"] if args.all else []), args.json)
    if found.unreadable and not args.json:
        plain(console, f"{len(found.unreadable)} records are not dead letters: {found.unreadable}")
    return 0


def run_show(settings: Settings, args: argparse.Namespace) -> int:
    """Print one dead letter: the payload decoded, the error, attempts, source and headers."""
    console = Console()
    found = asyncio.run(dlq.load(settings))
    match = [e for e in found.entries if e.id == args.id]
    if not match:
        plain(console, f"no dead letter {args.id} on {settings.topic_dead_letter}")
        return EXIT_NOT_FOUND
    for title, values in describe(match[0]):
        fields(console, title, values)
    return 0


def describe(entry: dlq.Entry) -> list[tuple[str, dict[str, object]]]:
    """Return the sections `dlq show` prints."""
    letter = entry.letter
    position = f"{letter.source_topic}:{letter.source_partition}:{letter.source_offset}"
    return [
        ("dead letter", entry.summary() | {"resolution": entry.resolution}),
        ("error", {"type": letter.error_type, "message": letter.error_message,
                   "attempts": letter.attempts, "failed_at": iso(letter.failed_at_ms)}),
        ("source", {"position": position, "key": letter.source_key,
                    "received_at": iso(letter.received_at_ms)}),
        ("original headers", {h.key: h.value.decode(errors="replace") for h in letter.headers}),
        ("dead-letter headers", {k: v.decode(errors="replace") for k, v in entry.headers}),
        ("payload", {"": letter.payload.decode(errors="replace")}),
        ("traceback", {"": letter.traceback}),
    ]  # fmt: skip


def chosen(settings: Settings, args: argparse.Namespace) -> tuple[list[dlq.Entry], list[str]]:
    """Return the selected entries and the ids asked for that do not exist."""
    found = asyncio.run(dlq.load(settings))
    picked = found.select(selection(args))
    missing = [i for i in args.ids or () if i not in {e.id for e in picked}]
    return picked, missing


def run_requeue(settings: Settings, args: argparse.Namespace) -> int:
    """Plan (default) or, with --execute, write the selected dead letters back where they failed."""
    if not (args.ids or args.stage or args.error_type):
        raise SystemExit("dlq requeue: name dead-letter ids, --stage or --error-type")
    return act(settings, args, "requeue", dlq.requeue)


def run_discard(settings: Settings, args: argparse.Namespace) -> int:
    """Plan (default) or, with --execute, mark the named dead letters resolved as discarded."""
    return act(settings, args, "discard", dlq.discard)


def act(settings: Settings, args: argparse.Namespace, verb: str, action: dlq.Action) -> int:
    """Print the plan; with --execute carry it out with progress, then a summary line."""
    console = Console()
    entries, missing = chosen(settings, args)
    for ident in missing:
        plain(console, f"no dead letter {ident}")
    plan = [e.summary() | {"target": dlq.requeue_target(e, settings)} for e in entries]
    rows(console, plan, ["id", "stage", "error_type", "resolved", "target"], False)
    if not args.execute:
        plain(console, f"plan: {verb} {len(entries)} dead letters; nothing done (add --execute)")
        return EXIT_NOT_FOUND if missing else 0
    with Progress(console, verb, len(entries)) as progress:
        done = asyncio.run(action(settings, entries, time.time, lambda e, t: progress.advance()))
    plain(console, f"{verb}: {done} dead letters done")
    return EXIT_NOT_FOUND if missing else 0


def run_exporter(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the dead-letter and replay-backlog metrics until interrupted."""
    from intercom_stream.ops.exporter import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, args.host, args.port, args.interval))
    return 0


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(sub: Subparsers) -> None:
    """Add `dlq list|show|requeue|discard`, `exporter` and `replay` to the command line."""
    from intercom_stream.ops import replay_cli

    replay_cli.register(sub)
    exporter = sub.add_parser("exporter", help="serve dead-letter and replay metrics")
    exporter.add_argument("--host", default="0.0.0.0")  # noqa: S104 - scraped from elsewhere
    exporter.add_argument("--port", type=int, default=9310)
    exporter.add_argument("--interval", type=float, default=30.0, help="seconds between reads")
    exporter.set_defaults(run=run_exporter)
    root = sub.add_parser("dlq", help="inspect, requeue and discard dead letters")
    register_dlq(root.add_subparsers(dest="dlq_command", required=True))


def register_dlq(verbs: Subparsers) -> None:
    """Add the dlq verbs."""
    listing = verbs.add_parser("list", help="list unresolved dead letters")
    filters(listing)
    listing.add_argument("--all", action="store_true", help="include resolved ones")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(run=run_list)
    show = verbs.add_parser("show", help="show one dead letter")
    show.add_argument("id", help="partition:offset on the dead-letter topic")
    show.set_defaults(run=run_show)
    requeue = verbs.add_parser("requeue", help="send dead letters back where they failed")
    requeue.add_argument("ids", nargs="*", metavar="ID")
    filters(requeue, with_topic=False)
    discard = verbs.add_parser("discard", help="mark dead letters resolved without requeuing")
    discard.add_argument("ids", nargs="+", metavar="ID")
    for parser, run in ((requeue, run_requeue), (discard, run_discard)):
        parser.add_argument("--execute", action="store_true", help="do it (default: plan only)")
        parser.set_defaults(run=run, all=False)


def filters(parser: argparse.ArgumentParser, with_topic: bool = True) -> None:
    """Add the dead-letter filters."""
    parser.add_argument("--stage", help="ingress, verify, parse, handler, validate or writer")
    parser.add_argument("--error-type", help="exception class name, e.g. NotFoundError")
    parser.add_argument("--since", help="failed at or after: ISO 8601 (UTC) or an age (30m, 2h)")
    if with_topic:
        parser.add_argument("--topic", help="Intercom or source topic glob, e.g. conversation.*")
