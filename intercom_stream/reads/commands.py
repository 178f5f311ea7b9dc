"""The `intercom` subcommands: search contacts, list open conversations, articles, collections.

Each lists to the end (every page), shows a progress bar on a terminal (stderr), and prints
JSON lines or a table. Calls go through the ReadPacer, so a listing takes at most
`--budget-share` of each rate-limit window and leaves the rest to the writer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import orjson
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from intercom_stream.reads.pacing import ReadPacer
from intercom_stream.settings import Settings
from stream_app.writer.errors import WriterError

if TYPE_CHECKING:  # the HTTP client (aiohttp) is imported only when a listing runs
    from intercom_stream.reads.pager import Page, Reader

EXIT_FAILED = 1
EXIT_USAGE = 2
DEFAULT_SHARE = 0.2


@dataclass(frozen=True)
class Listing:
    """What to list, how to page it, and which fields make the table's columns."""

    title: str
    columns: tuple[str, ...]
    pages: Callable[[Reader], AsyncIterator[Page]]
    newest_first: bool = False


def contacts_search(args: argparse.Namespace) -> Listing:
    """Return the listing of `POST /contacts/search` with the given query."""
    query = json.loads(args.query)
    columns = ("id", "external_id", "role", "email", "name")
    return Listing(
        "contacts", columns, lambda r: r.search("/contacts/search", {"query": query}, "data")
    )


def open_conversations(args: argparse.Namespace) -> Listing:
    """Return the listing of an admin's open conversations, newest update first."""
    admin = int(args.admin) if str(args.admin).isdigit() else args.admin
    leaves = [
        {"field": "state", "operator": "=", "value": "open"},
        {"field": "admin_assignee_id", "operator": "=", "value": admin},
    ]
    body = {"query": {"operator": "AND", "value": leaves}}
    body["sort"] = {"field": "updated_at", "order": "descending"}
    columns = ("id", "state", "admin_assignee_id", "team_assignee_id", "updated_at")

    def pages(reader: Reader) -> AsyncIterator[Page]:
        return reader.search("/conversations/search", body, "conversations")

    return Listing("conversations", columns, pages, newest_first=True)


def help_center(
    path: str, title: str, columns: tuple[str, ...]
) -> Callable[[argparse.Namespace], Listing]:
    """Return a builder of a page-numbered Help Center listing."""
    return lambda args: Listing(title, columns, lambda r: r.numbered(path))


async def collect(
    settings: Settings, listing: Listing, share: float, bar: Progress
) -> list[dict[str, Any]]:
    """Read every page of the listing, advancing the progress bar."""
    from intercom_stream.reads.pager import Reader
    from stream_app.writer.client import Connection, IntercomClient

    pacer = ReadPacer(settings.writer_calls_per_window, share)
    items: list[dict[str, Any]] = []
    task = bar.add_task(listing.title, total=None)
    async with IntercomClient(Connection.from_settings(settings)) as client:
        async for page in listing.pages(Reader(client, pacer)):
            items.extend(page.items)
            bar.update(task, completed=len(items), total=page.total)
    if listing.newest_first:
        items.sort(key=lambda item: item.get("updated_at") or 0, reverse=True)
    return items


def emit(items: list[dict[str, Any]], listing: Listing, table: bool, out: TextIO) -> None:
    """Print the items as a table or as JSON lines."""
    if not table:
        for item in items:
            out.write(orjson.dumps(item).decode() + "\n")
        return
    view = Table(*listing.columns, title=f"{listing.title} ({len(items)})")
    for item in items:
        view.add_row(*("" if item.get(c) is None else str(item.get(c)) for c in listing.columns))
    Console(file=out).print(view)


def run_listing(settings: Settings, args: argparse.Namespace) -> int:
    """Run one listing subcommand and print its result."""
    try:
        listing: Listing = args.listing(args)
    except ValueError as exc:  # --query is not JSON
        print(f"intercom-stream: bad arguments: {exc}", file=sys.stderr)
        return EXIT_USAGE
    table = args.format == "table" or (args.format is None and sys.stdout.isatty())
    bar = Progress(console=Console(stderr=True), disable=not sys.stderr.isatty(), transient=True)
    try:
        with bar:
            items = asyncio.run(collect(settings, listing, args.budget_share, bar))
    except WriterError as exc:
        print(f"intercom-stream: Intercom refused the read: {exc}", file=sys.stderr)
        return EXIT_FAILED
    emit(items, listing, table, sys.stdout)
    return 0


def add(
    sub: Any, name: str, help: str, listing: Callable[[argparse.Namespace], Listing]
) -> argparse.ArgumentParser:
    """Add one listing subcommand with the common options."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.add_argument("--format", choices=["jsonl", "table"], help="default: table on a terminal")
    parser.add_argument("--budget-share", type=float, default=DEFAULT_SHARE, help="of each window")
    parser.set_defaults(run=run_listing, listing=listing)
    return parser


ARTICLE_COLUMNS = ("id", "title", "state", "author_id", "parent_id", "updated_at")
COLLECTION_COLUMNS = ("id", "name", "parent_id", "help_center_id", "updated_at")
SUBCOMMANDS: tuple[
    tuple[str, str, str, Callable[[argparse.Namespace], Listing], str | None], ...
] = (
    ("contacts", "search", "search contacts", contacts_search, "--query"),
    ("conversations", "open", "an admin's open conversations", open_conversations, "--admin"),
    (
        "articles",
        "list",
        "every article",
        help_center("/articles", "articles", ARTICLE_COLUMNS),
        None,
    ),
    (
        "collections",
        "list",
        "every collection",
        help_center("/help_center/collections", "collections", COLLECTION_COLUMNS),
        None,
    ),
)


def register(sub: Any) -> None:
    """Add `intercom contacts search`, `conversations open`, `articles list`, `collections list`."""
    intercom = sub.add_parser("intercom", help="read Intercom (paced, through the budget)")
    resources = intercom.add_subparsers(dest="resource", required=True)
    for resource, action, help, listing, required in SUBCOMMANDS:
        actions = resources.add_parser(resource).add_subparsers(dest="action", required=True)
        parser = add(actions, action, help, listing)
        if required is not None:
            parser.add_argument(required, required=True)
