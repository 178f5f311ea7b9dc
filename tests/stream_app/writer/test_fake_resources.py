"""The fake Intercom's REST endpoints answer with intercom-api.md's statuses and error bodies."""

from __future__ import annotations

from typing import Any

import aiohttp

from dev.fakes.intercom import DEFAULT_TOKEN, FakeIntercom

HEADERS = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Accept": "application/json"}


async def call(fake: FakeIntercom, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Make one call and return the status and JSON body."""
    async with (
        aiohttp.ClientSession(headers=HEADERS) as session,
        session.request(method, fake.url + path, json=body) as response,
    ):
        assert "X-RateLimit-Remaining" in response.headers
        return response.status, await response.json(content_type=None)


async def test_a_duplicate_external_id_is_a_409_naming_the_existing_contact(
    fake: FakeIntercom,
) -> None:
    """The id is in the message; an archived match says so."""
    status, created = await call(fake, "POST", "/contacts", {"external_id": "u-1"})
    assert (status, created["type"], len(created["id"])) == (200, "contact", 24)
    status, body = await call(fake, "POST", "/contacts", {"external_id": "u-1"})
    assert status == 409
    assert body["errors"][0] == {
        "code": "conflict",
        "message": f"A contact matching those details already exists with id={created['id']}",
    }
    assert body["request_id"].startswith("req-")
    await call(fake, "POST", f"/contacts/{created['id']}/archive")
    _, body = await call(fake, "POST", "/contacts", {"external_id": "u-1"})
    assert body["errors"][0]["message"].startswith("An archived contact matching")


async def test_unknown_resources_and_methods_are_404_and_bad_bodies_400(fake: FakeIntercom) -> None:
    """Each error carries Intercom's code and message."""
    expected = [
        ("PUT", "/contacts/nope", {"name": "x"}, 404, "not_found", "User Not Found"),
        ("POST", "/conversations/1/reply", {}, 400, "parameter_invalid", None),
        ("PUT", "/articles/9", {"title": "x"}, 404, "not_found", "Resource Not Found"),
        ("GET", "/companies?company_id=none", None, 404, "company_not_found", "Company Not Found"),
        ("POST", "/contacts/x/companies", {}, 400, "parameter_not_found", "company not specified"),
        ("POST", "/articles", {"title": "t"}, 400, "parameter_not_found", None),
        ("PATCH", "/contacts", {}, 404, "not_found", "Resource Not Found"),
        ("POST", "/tags", {"name": " "}, 400, "parameter_invalid", "invalid tag parameters"),
    ]
    for method, path, body, status, code, message in expected:
        got, answer = await call(fake, method, path, body)
        error = answer["errors"][0]
        assert (got, error["code"]) == (status, code), path
        assert message is None or error["message"] == message, path


async def test_search_pages_by_cursor_and_articles_by_number(fake: FakeIntercom) -> None:
    """pages.next.starting_after until the last page; total_pages for the Help Center."""
    for n in range(5):
        await call(fake, "POST", "/contacts", {"external_id": f"u-{n}"})
        await call(fake, "POST", "/articles", {"title": f"A{n}", "author_id": 1})
    query = {"field": "external_id", "operator": "^", "value": "u-"}
    _, first = await call(
        fake, "POST", "/contacts/search", {"query": query, "pagination": {"per_page": 3}}
    )
    after = first["pages"]["next"]["starting_after"]
    pagination = {"per_page": 3, "starting_after": after}
    _, last = await call(
        fake, "POST", "/contacts/search", {"query": query, "pagination": pagination}
    )
    assert (len(first["data"]), len(last["data"]), "next" in last["pages"]) == (3, 2, False)
    _, page = await call(fake, "GET", "/articles?page=2&per_page=2")
    assert (page["pages"]["total_pages"], len(page["data"])) == (3, 2)
