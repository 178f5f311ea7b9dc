"""Every command kind becomes the expected calls, bodies and recoveries against the fake."""

from __future__ import annotations

from typing import Any

import pytest

from dev.fakes.intercom import FakeIntercom
from intercom_stream.errors import AttemptsExhaustedError
from stream_app.writer.executor import UncertainError
from stream_app.writer.recipes import UnresolvedError
from tests.stream_app.writer.recipe_harness import command, harness

CONTACT = {"external_id": "u-42", "email": "ada@example.com", "name": "Ada"}


async def test_find_or_create_creates_a_new_contact_in_one_call(fake: FakeIntercom) -> None:
    """A new contact is one POST /contacts with every field, and is cached."""
    async with harness(fake) as h:
        await h.run(command("contact.find_or_create", contact=CONTACT))
        assert h.calls() == [("POST", "/contacts")]
        assert h.bodies() == [{**CONTACT, "role": "user"}]
        [contact] = fake.resources.state.contacts.values()
        assert h.table["external_id:u-42"]["id"] == contact["id"]


async def test_find_or_create_updates_on_409_and_unarchives_first(fake: FakeIntercom) -> None:
    """A 409 names the existing contact: archived -> unarchive, then PUT with the new fields."""
    state = fake.resources.state
    _, existing = state.create({"external_id": "u-42", "name": "Old"})
    state.archive(existing["id"], True)
    async with harness(fake) as h:
        await h.run(command("contact.find_or_create", contact=CONTACT))
        contact_path = f"/contacts/{existing['id']}"
        assert h.calls() == [
            ("POST", "/contacts"),
            ("POST", f"{contact_path}/unarchive"),
            ("PUT", contact_path),
        ]
        assert h.bodies()[-1] == {"email": "ada@example.com", "name": "Ada"}
    assert state.contacts[existing["id"]]["archived"] is False
    assert state.contacts[existing["id"]]["name"] == "Ada"


async def test_a_cached_contact_is_one_update_and_a_stale_entry_is_evicted(
    fake: FakeIntercom,
) -> None:
    """Known: straight to PUT. Deleted meanwhile: 404 evicts, then created again."""
    async with harness(fake) as h:
        await h.run(command("contact.find_or_create", contact=CONTACT))
        first = h.table["external_id:u-42"]["id"]
        await h.run(command("contact.find_or_create", "c2", contact={**CONTACT, "name": "B"}))
        assert h.calls()[1:] == [("PUT", f"/contacts/{first}")]
        fake.resources.state.delete(first)
        await h.run(command("contact.find_or_create", "c3", contact=CONTACT))
        assert h.calls()[2:] == [("PUT", f"/contacts/{first}"), ("POST", "/contacts")]
        assert h.table["external_id:u-42"]["id"] != first


async def test_update_resolves_the_external_id_once_then_from_the_cache(
    fake: FakeIntercom,
) -> None:
    """An unknown external id costs one search; the next command reads the cache."""
    _, existing = fake.resources.state.create({"external_id": "u-42"})
    async with harness(fake) as h:
        await h.run(command("contact.update"))
        await h.run(command("contact.update", "c2", changes={"email": "x@example.com"}))
        path = f"/contacts/{existing['id']}"
        assert h.calls() == [("POST", "/contacts/search"), ("PUT", path), ("PUT", path)]
        assert h.bodies()[0]["query"] == {"field": "external_id", "operator": "=", "value": "u-42"}


async def test_an_unknown_external_id_fails_the_command(fake: FakeIntercom) -> None:
    """No contact has the external id: the command fails as unresolved after one search."""
    async with harness(fake) as h:
        with pytest.raises(AttemptsExhaustedError) as failed:
            await h.run(command("contact.tag", external_id="ghost"))
    assert isinstance(failed.value.error, UnresolvedError)


async def test_tag_and_untag_resolve_the_tag_once(fake: FakeIntercom) -> None:
    """The tag's id comes from POST /tags once; attach, then detach, by that id."""
    _, existing = fake.resources.state.create({"external_id": "u-42"})
    async with harness(fake) as h:
        await h.run(command("contact.tag"))
        await h.run(command("contact.untag", contact_id=existing["id"]))
        path = f"/contacts/{existing['id']}/tags"
        [tag_id] = fake.resources.state.tags
        assert h.calls() == [
            ("POST", "/contacts/search"),
            ("POST", "/tags"),
            ("POST", path),
            ("DELETE", f"{path}/{tag_id}"),
        ]
    assert fake.resources.state.contacts[existing["id"]]["tag_ids"] == []


@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        (
            "conversation.reply",
            "/conversations/515/reply",
            {
                "message_type": "comment",
                "type": "admin",
                "admin_id": "991",
                "body": "<p>Fixed.</p>",
            },
        ),
        (
            "conversation.note",
            "/conversations/515/reply",
            {"message_type": "note", "type": "admin", "admin_id": "991", "body": "<p>Internal</p>"},
        ),
        (
            "conversation.close",
            "/conversations/515/parts",
            {"message_type": "close", "type": "admin", "admin_id": "991", "body": "Bye"},
        ),
        (
            "conversation.open",
            "/conversations/515/parts",
            {"message_type": "open", "admin_id": "991"},
        ),
        (
            "conversation.snooze",
            "/conversations/515/parts",
            {"message_type": "snoozed", "admin_id": "991", "snoozed_until": 1_763_800_000},
        ),
        (
            "conversation.assign",
            "/conversations/515/parts",
            {"message_type": "assignment", "type": "team", "admin_id": "991", "assignee_id": "77"},
        ),
        (
            "article.create",
            "/articles",
            {
                "title": "Reset your password",
                "body": "<p>Steps</p>",
                "author_id": 991,
                "state": "draft",
            },
        ),
        ("company.upsert", "/companies", {"company_id": "acme-1", "name": "Acme", "plan": "pro"}),
    ],
)
async def test_single_call_kinds_send_the_documented_body(
    fake: FakeIntercom, kind: str, path: str, body: dict[str, Any]
) -> None:
    """One call each, with exactly the body intercom-api.md gives."""
    fake.resources.content.add_conversation("515")
    async with harness(fake) as h:
        await h.run(command(kind))
        assert (h.calls(), h.bodies()) == ([("POST", path)], [body])


async def test_merge_article_update_and_company_attach(fake: FakeIntercom) -> None:
    """Merge is one call; article update is a PUT; attach resolves the company once."""
    state = fake.resources.state
    _, lead = state.create({"role": "lead", "email": "l@example.com"})
    _, user = state.create({"external_id": "u-42"})
    fake.resources.content.create_article({"title": "t", "author_id": 1})
    async with harness(fake) as h:
        await h.run(command("contact.merge", lead_id=lead["id"], user_id=user["id"]))
        await h.run(command("article.update", article_id="1"))
        await h.run(command("company.upsert"))
        await h.run(command("company.attach_contact"))
        await h.run(command("company.attach_contact", "again"))
    company = state.company("acme-1")
    assert company is not None
    assert state.contacts[user["id"]]["company_ids"] == [company["id"]]
    assert lead["id"] not in state.contacts
    assert fake.resources.calls() == [
        ("POST", "/contacts/merge"),
        ("PUT", "/articles/1"),
        ("POST", "/companies"),
        ("POST", "/contacts/search"),
        ("POST", f"/contacts/{user['id']}/companies"),
        ("POST", f"/contacts/{user['id']}/companies"),
    ]


async def test_a_retried_command_resumes_after_its_last_finished_step(fake: FakeIntercom) -> None:
    """Progress says the contact and tag are resolved: only the attach is called."""
    _, existing = fake.resources.state.create({"external_id": "u-42"})
    fake.resources.state.tag_by_name({"name": "vip"})
    async with harness(fake) as h:
        values = {"contact_id": existing["id"], "tag_id": "100"}
        h.progress["example-contact.tag"] = {
            "done": ["resolve_contact", "tag_id"],
            "values": values,
        }
        await h.run(command("contact.tag"))
        assert h.calls() == [("POST", f"/contacts/{existing['id']}/tags")]
        assert h.progress == {}


async def test_an_intended_reply_is_never_sent_twice(fake: FakeIntercom) -> None:
    """A reply marked as intended but not done fails as uncertain, without a call; force sends."""
    fake.resources.content.add_conversation("515")
    async with harness(fake) as h:
        h.progress["example-conversation.reply"] = {"done": [], "values": {}, "intent": "part"}
        with pytest.raises(AttemptsExhaustedError) as failed:
            await h.run(command("conversation.reply"))
        assert isinstance(failed.value.error, UncertainError)
        assert h.calls() == []
        await h.run(command("conversation.reply"), force=True)
        assert h.calls() == [("POST", "/conversations/515/reply")]


async def test_intercom_refusals_fail_the_command_with_the_request_id(fake: FakeIntercom) -> None:
    """A 404 conversation and a merge of unknown contacts carry Intercom's code and request id."""
    async with harness(fake) as h:
        with pytest.raises(AttemptsExhaustedError) as missing:
            await h.run(command("conversation.open"))
        with pytest.raises(AttemptsExhaustedError) as invalid:
            await h.run(command("contact.merge"))
    assert "not_found" in str(missing.value.error)
    assert "request_id=req-" in str(missing.value.error)
    assert "User Not Found" in str(invalid.value.error)


async def test_a_refused_reply_clears_its_intent_so_a_requeue_can_send_it(
    fake: FakeIntercom,
) -> None:
    """A 404 means Intercom did not act: the same command sent again (no force) is tried."""
    async with harness(fake) as h:
        with pytest.raises(AttemptsExhaustedError):
            await h.run(command("conversation.reply"))
        assert h.progress["example-conversation.reply"]["intent"] is None
        fake.resources.content.add_conversation("515")
        await h.run(command("conversation.reply"))
        assert h.calls() == [("POST", "/conversations/515/reply")] * 2
        assert h.progress == {}


async def test_a_command_failing_at_its_last_call_keeps_its_progress_for_the_retry(
    fake: FakeIntercom,
) -> None:
    """The tag is resolved, the attach 404s: progress keeps the tag id; nothing is repeated."""
    async with harness(fake) as h:
        with pytest.raises(AttemptsExhaustedError):
            await h.run(
                command("contact.tag", contact_id="5f1a0000000000000000000f", external_id=None)
            )
        saved = h.progress["example-contact.tag"]
        assert (saved["done"], saved["values"]["tag_id"]) == (["resolve_contact", "tag_id"], "100")
        assert h.calls() == [("POST", "/tags"), ("POST", "/contacts/5f1a0000000000000000000f/tags")]
