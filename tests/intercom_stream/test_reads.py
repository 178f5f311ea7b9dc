"""Operator reads: paced to a share of the window, paginated to the end, printed as asked."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
from rich.progress import Progress

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from dev.fakes.intercom_routes import running_fake
from intercom_stream.cli import main
from intercom_stream.reads.commands import (
    collect,
    contacts_search,
    emit,
    help_center,
    open_conversations,
)
from intercom_stream.reads.pacing import ReadPacer
from intercom_stream.settings import Settings
from stream_app.writer.errors import RateHeaders
from tests.fakes.clock import FakeClock


async def test_the_pacer_takes_its_share_of_a_window_then_waits_for_the_reset() -> None:
    """With limit 600 and share 0.2, 120 calls go in a window; the 121st waits for the reset."""
    clock = FakeClock(1_000.0)
    pacer = ReadPacer(budget=1666, share=0.2, clock=clock, sleep=clock.sleep)
    pacer.observe(RateHeaders(limit=600, remaining=500, reset=1_010.0))
    for _ in range(120):
        await pacer.admit()
    assert clock.now == 1_000.0
    await pacer.admit()
    assert clock.now >= 1_010.0


async def test_a_429_or_a_spent_window_waits_for_the_reset() -> None:
    """Nothing is read before the window Intercom named resets."""
    clock = FakeClock(1_000.0)
    pacer = ReadPacer(budget=600, share=0.5, clock=clock, sleep=clock.sleep)
    pacer.rate_limited(1_007.0)
    await pacer.admit()
    assert clock.now >= 1_007.0
    pacer.observe(RateHeaders(limit=600, remaining=0, reset=1_020.0))
    await pacer.admit()
    assert clock.now >= 1_020.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    """The fake Intercom on loopback."""
    async with running_fake(limit=600) as server:
        yield server


@pytest.fixture
def reads_settings(make_settings: Callable[..., Settings], fake: FakeIntercom) -> Settings:
    """Settings calling the fake."""
    return make_settings(intercom_api_url=fake.url, intercom_access_token=DEFAULT_TOKEN)


async def test_contacts_search_follows_the_cursor_to_the_end(
    fake: FakeIntercom, reads_settings: Settings
) -> None:
    """400 matching contacts come back in three pages of at most 150, each once."""
    for n in range(450):
        fake.resources.state.create(
            {"external_id": f"u-{n}", "role": "user" if n < 400 else "lead"}
        )
    query = json.dumps({"field": "role", "operator": "=", "value": "user"})
    args = argparse.Namespace(query=query)
    with Progress(disable=True) as bar:
        items = await collect(reads_settings, contacts_search(args), 0.2, bar)
    assert sorted(i["external_id"] for i in items) == sorted(f"u-{n}" for n in range(400))
    assert [
        r.body["pagination"].get("starting_after") is None for r in fake.resources.requests
    ] == [
        True,
        False,
        False,
    ]


async def test_open_conversations_of_an_admin_newest_first(
    fake: FakeIntercom, reads_settings: Settings
) -> None:
    """Only the admin's open conversations, sorted by updated_at descending."""
    content = fake.resources.content
    content.add_conversation("1", admin_assignee_id=7, updated_at=10)
    content.add_conversation("2", admin_assignee_id=7, updated_at=30)
    content.add_conversation("3", admin_assignee_id=7, updated_at=20, state="closed")
    content.add_conversation("4", admin_assignee_id=8, updated_at=40)
    with Progress(disable=True) as bar:
        items = await collect(
            reads_settings, open_conversations(argparse.Namespace(admin="7")), 0.2, bar
        )
    assert [i["id"] for i in items] == ["2", "1"]


async def test_articles_and_collections_page_by_number_to_the_last_page(
    fake: FakeIntercom, reads_settings: Settings
) -> None:
    """320 articles in three numbered pages; collections in one; printed as lines or a table."""
    for n in range(320):
        fake.resources.content.create_article({"title": f"A{n}", "author_id": 1})
    fake.resources.content.collections["9"] = {"id": "9", "name": "Billing", "updated_at": 1}
    articles = help_center("/articles", "articles", ("id", "title"))(argparse.Namespace())
    collections = help_center("/help_center/collections", "collections", ("id", "name"))(
        argparse.Namespace()
    )
    with Progress(disable=True) as bar:
        found = await collect(reads_settings, articles, 0.2, bar)
        shelves = await collect(reads_settings, collections, 0.2, bar)
    assert len({a["id"] for a in found}) == 320
    assert [r.path for r in fake.resources.requests][-1] == "/help_center/collections"
    lines, table = io.StringIO(), io.StringIO()
    emit(shelves, collections, False, lines)
    emit(shelves, collections, True, table)
    assert orjson.loads(lines.getvalue()) == shelves[0]
    assert "Billing" in table.getvalue()


def test_a_query_that_is_not_json_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 with a message, and no call."""
    assert main(["intercom", "contacts", "search", "--query", "{nope"]) == 2
    assert "bad arguments" in capsys.readouterr().err
