"""The `replay` subcommand: plan by default, `--execute` to run, `--resume`, and `history`."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from rich.console import Console

from intercom_stream.ops import kafka_io, replay_audit
from intercom_stream.ops.render import Progress, plain, rows
from intercom_stream.ops.replay_plan import Plan, Ranges, Selection, make_plan
from intercom_stream.ops.replay_run import Pacer, Replay
from intercom_stream.ops.timespec import parse_instant
from intercom_stream.settings import Settings
from intercom_stream.topics import replay_topic

EXIT_INTERRUPTED = 130
# A replay writes far faster (about 4,000/s here) than a worker's replay lane takes records
# (hundreds a second beside live traffic); unpaced, it spends its CPU and the broker's in a
# burst that live traffic on the same machines pays for (docs/replay.md).
DEFAULT_RATE = 1000.0
EXIT_USAGE = 2
HISTORY = [
    "replay_id",
    "started_at",
    "by",
    "outcome",
    "selected",
    "sent",
    "force_resend",
    "selection",
]


def selection(args: argparse.Namespace, now: float) -> Selection:
    """Return the selection the flags describe."""
    return Selection(
        since_ms=parse_instant(args.since, now) if args.since else None,
        until_ms=parse_instant(args.until, now) if args.until else None,
        topics=tuple(args.topic or ()),
        ids=tuple(args.id or ()),
        partitions=tuple(args.partition or ()),
        from_offset=args.from_offset,
        to_offset=args.to_offset,
    )


def show_plan(console: Console, plan: Plan, force: bool, rate: float | None) -> None:
    """Print the counts per Intercom topic, the ranges and the warnings."""
    counts = [{"intercom_topic": t, "notifications": n} for t, n in sorted(plan.per_topic.items())]
    rows(console, counts, ["intercom_topic", "notifications"], False)
    spans = [{"partition": p, "from": a, "to": b} for p, (a, b) in sorted(plan.ranges.items())]
    rows(console, spans, ["partition", "from", "to"], False)
    for warning in plan.warnings:
        plain(console, f"WARNING: {warning}")
    if force:
        plain(console, "WARNING: --force-resend: the writer sends these commands again, "
                       "even those Intercom already accepted")  # fmt: skip
    pace = f" at most {rate:g}/s" if rate else ""
    plain(console, f"plan: replay {plan.selected} of {plan.scanned} notifications{pace}")


def run_replay(settings: Settings, args: argparse.Namespace) -> int:
    """Plan a replay, or with --execute run (or resume) it; `replay history` lists replays."""
    console = Console()
    if args.action == "history":
        return show_history(settings, console, args.json)
    if args.resume:
        return resume(settings, args, console)
    chosen = selection(args, time.time())
    plan = asyncio.run(
        make_plan(settings.bootstrap_servers(), settings.topic_notifications, chosen)
    )
    show_plan(console, plan, args.force_resend, args.rate)
    if not args.execute:
        plain(console, "nothing done (add --execute)")
        return 0
    replay_id = replay_audit.new_replay_id(time.time())
    options = {"force_resend": args.force_resend, "rate": args.rate, "selected": plan.selected}
    opening = replay_audit.started(replay_id, chosen, plan.ranges, options, int(time.time() * 1000))
    return execute(settings, console, opening, plan.ranges, plan.selected)


def show_history(settings: Settings, console: Console, as_json: bool) -> int:
    """Print one line per replay from the audit topic."""
    history = replay_audit.history_rows(asyncio.run(replay_audit.read_all(settings)))
    rows(console, history, HISTORY, as_json)
    return 0


def resume(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Continue a replay from its last acknowledged positions, with its own selection."""
    found = replay_audit.resume_point(asyncio.run(replay_audit.read_all(settings)), args.resume)
    if found is None:
        plain(console, f"no replay {args.resume} in the audit topic")
        return EXIT_USAGE
    ranges = {
        int(p): (found.get("positions", {}).get(p, a), b) for p, (a, b) in found["ranges"].items()
    }
    left = sum(max(0, b - a) for a, b in ranges.values())
    plain(
        console, f"resume {args.resume}: {found.get('sent', 0)} sent; at most {left} records left"
    )
    if not args.execute:
        plain(console, "nothing done (add --execute)")
        return 0
    resumed = {**found, "event": "resumed", "at_ms": int(time.time() * 1000)}
    resumed["resumes"] = found.get("resumes", 0) + 1
    return execute(settings, console, resumed, ranges, left)


def execute(
    settings: Settings, console: Console, opening: dict[str, Any], ranges: Ranges, total: int
) -> int:
    """Write the opening audit record, run the replay with progress, print how it ended."""
    replay_id = opening["replay_id"]
    chosen = Selection.from_record(opening["selection"])
    started = time.monotonic()
    with Progress(console, f"replay {replay_id}", total) as progress:
        pacer = Pacer(opening.get("rate"))
        replay = Replay(settings, replay_id, chosen, dict(ranges), opening["force_resend"], pacer)
        replay.advance, replay.sent = progress.advance, opening.get("sent", 0)
        outcome = asyncio.run(run_with_opening(replay, opening))
    seconds = time.monotonic() - started
    plain(console, f"replay {replay_id} {outcome}: {replay.sent} sent to {replay_topic(settings)}, "
                   f"{replay.skipped} skipped (replayed too often), {seconds:.1f} s")  # fmt: skip
    if outcome == "interrupted":
        plain(console, f"resume with: intercom-stream replay --resume {replay_id} --execute")
        return EXIT_INTERRUPTED
    return 0


async def run_with_opening(replay: Replay, opening: dict[str, Any]) -> str:
    """Write the opening audit record, then run the replay."""
    async with kafka_io.writer(replay.settings.bootstrap_servers()) as producer:
        await replay_audit.write(producer, replay.settings, opening)
    return await replay.run()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `replay` to the command line."""
    parser = sub.add_parser("replay", help="re-drive notifications through the replay lane")
    parser.add_argument("action", nargs="?", choices=["history"], help="list past replays")
    parser.add_argument(
        "--since", help="record timestamp at or after: ISO 8601 (UTC) or 30m, 2h, 7d"
    )
    parser.add_argument("--until", help="record timestamp before: ISO 8601 (UTC) or an age")
    parser.add_argument("--topic", action="append", help="Intercom topic glob (repeatable)")
    parser.add_argument("--id", action="append", help="notification id (repeatable)")
    parser.add_argument("--partition", type=int, action="append", help="partition (repeatable)")
    parser.add_argument("--from-offset", type=int, help="first offset (inclusive)")
    parser.add_argument("--to-offset", type=int, help="last offset (exclusive)")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"notifications per second at most (default {DEFAULT_RATE:g}; 0: no limit)",
    )
    parser.add_argument("--force-resend", action="store_true", help="send even accepted commands")
    parser.add_argument("--resume", metavar="REPLAY_ID", help="continue an interrupted replay")
    parser.add_argument("--execute", action="store_true", help="do it (default: plan only)")
    parser.add_argument("--json", action="store_true", help="history as JSON lines")
    parser.set_defaults(run=run_replay)
