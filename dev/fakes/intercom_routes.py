"""Routes every REST call of intercom-api.md (besides /events) to the fake's state.

`FakeIntercom` sends each authenticated, unthrottled, fault-free request here (after its own
auth, rate-limit and fault checks); `Resources.requests` records each one with its JSON body,
so tests check the exact calls a command made.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from dev.fakes.intercom_content import Content, number_page, search
from dev.fakes.intercom_state import Answer, Contacts, error

if TYPE_CHECKING:
    from dev.fakes.intercom import FakeIntercom

Route = Callable[["Resources", re.Match[str], dict[str, Any], Mapping[str, str]], Answer]
ID = r"([^/]+)"


@dataclass(frozen=True)
class Request:
    """One request the resources answered: method, path, JSON body and status."""

    method: str
    path: str
    body: dict[str, Any]
    status: int
    command_id: str | None


def _routes() -> list[tuple[str, re.Pattern[str], Route]]:
    """Return (method, path pattern, handler) for every endpoint."""
    table: list[tuple[str, str, Route]] = [
        ("POST", "/contacts", lambda r, m, b, q: r.state.create(b)),
        (
            "POST",
            "/contacts/search",
            lambda r, m, b, q: search(r.state.contacts.values(), b, "data"),
        ),
        ("POST", "/contacts/merge", lambda r, m, b, q: r.state.merge(b)),
        ("GET", f"/contacts/{ID}", lambda r, m, b, q: r.state.get(m[1])),
        ("PUT", f"/contacts/{ID}", lambda r, m, b, q: r.state.update(m[1], b)),
        ("DELETE", f"/contacts/{ID}", lambda r, m, b, q: r.state.delete(m[1])),
        ("POST", f"/contacts/{ID}/archive", lambda r, m, b, q: r.state.archive(m[1], True)),
        ("POST", f"/contacts/{ID}/unarchive", lambda r, m, b, q: r.state.archive(m[1], False)),
        ("POST", f"/contacts/{ID}/tags", lambda r, m, b, q: r.state.tag(m[1], b.get("id"), True)),
        ("DELETE", f"/contacts/{ID}/tags/{ID}", lambda r, m, b, q: r.state.tag(m[1], m[2], False)),
        ("POST", f"/contacts/{ID}/companies", lambda r, m, b, q: r.state.attach_company(m[1], b)),
        ("POST", "/tags", lambda r, m, b, q: r.state.tag_by_name(b)),
        ("POST", "/companies", lambda r, m, b, q: r.state.upsert_company(b)),
        ("GET", "/companies", lambda r, m, b, q: r.state.find_company(q.get("company_id"))),
        ("POST", "/conversations/search", lambda r, m, b, q: r.conversation_search(b)),
        ("POST", f"/conversations/{ID}/reply", lambda r, m, b, q: r.content.reply(m[1], b)),
        ("POST", f"/conversations/{ID}/parts", lambda r, m, b, q: r.content.part(m[1], b)),
        ("POST", "/articles", lambda r, m, b, q: r.content.create_article(b)),
        ("PUT", f"/articles/{ID}", lambda r, m, b, q: r.content.update_article(m[1], b)),
        (
            "GET",
            "/articles",
            lambda r, m, b, q: number_page(list(r.content.articles.values()), dict(q)),
        ),
        (
            "GET",
            "/help_center/collections",
            lambda r, m, b, q: number_page(list(r.content.collections.values()), dict(q)),
        ),
    ]
    return [(method, re.compile(f"^{path}$"), route) for method, path, route in table]


ROUTES = _routes()


@dataclass
class Resources:
    """The fake's REST state and the record of the requests it answered."""

    clock: Callable[[], float] = time.time
    state: Contacts = field(init=False)
    content: Content = field(init=False)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Create the empty state on the shared clock."""
        self.state = Contacts(self.clock)
        self.content = Content(self.clock)

    def answer(
        self, method: str, path: str, query: Mapping[str, str], raw: bytes, command_id: str | None
    ) -> Answer:
        """Answer one request (an unknown path or method is a 404, as Intercom does)."""
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            status, answer = error(400, "parameter_invalid", "Invalid JSON")
        else:
            status, answer = self._route(method, path, body, query)
        self.requests.append(Request(method, path, body or {}, status, command_id))
        return status, answer

    def _route(
        self, method: str, path: str, body: dict[str, Any], query: Mapping[str, str]
    ) -> Answer:
        """Find the endpoint and call it."""
        for route_method, pattern, route in ROUTES:
            if route_method == method and (match := pattern.match(path)):
                return route(self, match, body, query)
        return error(404, "not_found", "Resource Not Found")

    def conversation_search(self, body: dict[str, Any]) -> Answer:
        """Answer `POST /conversations/search` (list items without their parts)."""
        items = [
            {k: v for k, v in c.items() if k != "parts"}
            for c in self.content.conversations.values()
        ]
        return search(items, body, "conversations")

    def calls(self) -> list[tuple[str, str]]:
        """Return (method, path) of every request answered, in order."""
        return [(r.method, r.path) for r in self.requests]


@asynccontextmanager
async def running_fake(limit: int = 600) -> AsyncIterator[FakeIntercom]:
    """Serve a fake Intercom on loopback for the block (in the running loop)."""
    from dev.fakes.intercom import FakeIntercom  # the fake imports this module

    server = FakeIntercom(limit=limit)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
