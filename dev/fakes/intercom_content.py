"""The fake Intercom's search, conversations, articles and collections, with both paginations.

Search takes Intercom's query (leaves `{field, operator, value}`, groups `{operator: AND|OR,
value: [...]}`) and pages by an opaque `starting_after` cursor in the body; articles and
collections page by `page`/`per_page` in the query string.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dev.fakes.intercom_state import Answer, error

MAX_PER_PAGE = 150
LEAF_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda have, want: have == want,
    "!=": lambda have, want: have != want,
    "IN": lambda have, want: have in want,
    "NIN": lambda have, want: have not in want,
    "~": lambda have, want: str(want) in str(have or ""),
    "!~": lambda have, want: str(want) not in str(have or ""),
    "^": lambda have, want: str(have or "").startswith(str(want)),
    "$": lambda have, want: str(have or "").endswith(str(want)),
    ">": lambda have, want: have is not None and have > want,
    "<": lambda have, want: have is not None and have < want,
}


def field_value(item: dict[str, Any], name: str) -> Any:
    """Return the item's value of a (possibly dotted) field."""
    value: Any = item
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def matches(item: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether the item satisfies the query (a leaf or an AND/OR group)."""
    if query.get("operator") in ("AND", "OR"):
        results = (matches(item, part) for part in query.get("value") or [])
        return all(results) if query["operator"] == "AND" else any(results)
    test = LEAF_TESTS.get(str(query.get("operator")))
    if test is None or "field" not in query:
        raise ValueError(f"unsupported query {query!r}")
    have, want = field_value(item, query["field"]), query.get("value")
    if isinstance(have, int) and isinstance(want, str) and want.isdigit():
        want = int(want)
    return test(have, want)


def cursor_page(items: list[dict[str, Any]], pagination: dict[str, Any], key: str) -> Answer:
    """Return one page of a search: `pages.next.starting_after` until the last page."""
    per_page = int(pagination.get("per_page") or 50)
    if not 0 < per_page <= MAX_PER_PAGE:
        return error(400, "parameter_invalid", f"per_page must be 1..{MAX_PER_PAGE}")
    cursor = pagination.get("starting_after")
    start = int(base64.b64decode(cursor).decode()) if cursor else 0
    chunk = items[start : start + per_page]
    page = start // per_page + 1
    pages: dict[str, Any] = {"type": "pages", "page": page, "per_page": per_page}
    pages["total_pages"] = math.ceil(len(items) / per_page)
    if start + per_page < len(items):
        after = base64.b64encode(str(start + per_page).encode()).decode()
        pages["next"] = {"page": page + 1, "starting_after": after}
    list_type = "conversation.list" if key == "conversations" else "list"
    return 200, {"type": list_type, key: chunk, "total_count": len(items), "pages": pages}


def search(items: Iterable[dict[str, Any]], body: dict[str, Any], key: str) -> Answer:
    """Answer a search request over the items."""
    try:
        found = [i for i in items if matches(i, body.get("query") or {})]
    except (ValueError, TypeError) as exc:
        return error(400, "parameter_invalid", str(exc))
    sort = body.get("sort") or {}
    if sort.get("order") not in (None, "ascending", "descending"):
        return error(400, "invalid_sort_order", "sort order must be ascending or descending")
    if sort.get("field"):
        reverse = sort.get("order", "descending") == "descending"
        found.sort(key=lambda i: field_value(i, sort["field"]) or 0, reverse=reverse)
    return cursor_page(found, body.get("pagination") or {}, key)


def number_page(items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
    """Return one page by number (`?page=&per_page=`), newest `updated_at` first."""
    try:
        page, per_page = int(query.get("page", "1")), int(query.get("per_page", "15"))
    except ValueError:
        return error(400, "parameter_invalid", "page and per_page must be integers")
    if page < 1 or not 0 < per_page <= MAX_PER_PAGE:
        return error(400, "parameter_invalid", "page or per_page out of range")
    ordered = sorted(items, key=lambda i: i.get("updated_at") or 0, reverse=True)
    chunk = ordered[(page - 1) * per_page : page * per_page]
    pages = {"type": "pages", "page": page, "per_page": per_page}
    pages["total_pages"] = math.ceil(len(items) / per_page)
    return 200, {"type": "list", "data": chunk, "total_count": len(items), "pages": pages}


PART_TYPES = {"close": "close", "snoozed": "snoozed", "open": "open", "assignment": "assignment"}


@dataclass
class Content:
    """Conversations, articles and collections; tests seed conversations and collections."""

    clock: Callable[[], float] = time.time
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_conversation(self, conversation_id: str, **fields: Any) -> dict[str, Any]:
        """Seed a conversation (open, unassigned unless fields say otherwise)."""
        conversation: dict[str, Any] = {"type": "conversation", "id": conversation_id}
        conversation["state"] = "open"
        conversation.update(open=True, admin_assignee_id=None, team_assignee_id=None)
        conversation.update(snoozed_until=None, updated_at=int(self.clock()), parts=[])
        conversation.update(fields)
        self.conversations[conversation_id] = conversation
        return conversation

    def reply(self, conversation_id: str, body: dict[str, Any]) -> Answer:
        """Answer `POST /conversations/{id}/reply` as an admin."""
        kind = body.get("message_type")
        if kind not in ("comment", "note", "quick_reply") or body.get("type") != "admin":
            return error(400, "parameter_invalid", "message_type or type is invalid")
        if not body.get("admin_id") or (kind != "quick_reply" and not body.get("body")):
            return error(400, "parameter_not_found", "admin_id and body are required")
        return self._add_part(conversation_id, kind, body)

    def part(self, conversation_id: str, body: dict[str, Any]) -> Answer:
        """Answer `POST /conversations/{id}/parts` (close, snoozed, open, assignment)."""
        kind = body.get("message_type")
        if kind not in PART_TYPES or not body.get("admin_id"):
            return error(400, "parameter_invalid", "message_type or admin_id is invalid")
        if kind == "snoozed" and not isinstance(body.get("snoozed_until"), int):
            return error(400, "parameter_not_found", "snoozed_until is required")
        if kind == "assignment" and (
            body.get("type") not in ("admin", "team") or not body.get("assignee_id")
        ):
            return error(400, "parameter_invalid", "assignment needs type and assignee_id")
        return self._add_part(conversation_id, kind, body)

    def _add_part(self, conversation_id: str, kind: str, body: dict[str, Any]) -> Answer:
        """Apply the part to the conversation and return it."""
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return error(404, "not_found", "Resource Not Found")
        state = {"close": "closed", "snoozed": "snoozed", "open": "open"}.get(kind)
        if state is not None:
            conversation.update(state=state, open=state != "closed")
            conversation["snoozed_until"] = body.get("snoozed_until")
        if kind == "assignment":
            field_name = "admin_assignee_id" if body["type"] == "admin" else "team_assignee_id"
            conversation[field_name] = None if body["assignee_id"] == "0" else body["assignee_id"]
        conversation["parts"].append(
            {"part_type": kind, "body": body.get("body"), "author": body["admin_id"]}
        )
        conversation["updated_at"] = int(self.clock())
        return 200, conversation

    def create_article(self, body: dict[str, Any]) -> Answer:
        """Answer `POST /articles`: a draft unless state says published."""
        if not body.get("title") or not isinstance(body.get("author_id"), int):
            message = (
                "author_id must be in the main body or default locale translated_content object"
            )
            return error(400, "parameter_not_found", message)
        article_id = str(len(self.articles) + 1)
        now = int(self.clock())
        article = {"type": "article", "id": article_id, "state": "draft", "created_at": now}
        self.articles[article_id] = article | body | {"updated_at": now}
        return 200, self.articles[article_id]

    def update_article(self, article_id: str, body: dict[str, Any]) -> Answer:
        """Answer `PUT /articles/{id}`."""
        article = self.articles.get(article_id)
        if article is None:
            return error(404, "not_found", "Resource Not Found")
        article.update(body, updated_at=int(self.clock()))
        return 200, article
