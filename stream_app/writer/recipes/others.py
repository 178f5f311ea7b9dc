"""Recipes of conversations, articles, companies and data events."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from schemas.commands import (
    AdminMessage,
    AttachContactToCompany,
    ConversationCommand,
    CreateArticle,
    CreateDataEvent,
    UpdateArticle,
    UpsertCompany,
)
from stream_app.writer.errors import IntercomResponseError
from stream_app.writer.recipes.contacts import RESOLVE_CONTACT, stale
from stream_app.writer.recipes.plan import Call, Plan, Recipe, Step, UnresolvedError, single


def event(plan: Plan[CreateDataEvent]) -> Call:
    """Return `POST /events` (Intercom deduplicates it)."""
    return plan.command.request()


def conversation_call(plan: Plan[ConversationCommand]) -> Call:
    """Return the one call of a conversation command (reply or parts)."""
    command = plan.command
    action = "reply" if isinstance(command, AdminMessage) else "parts"
    return "POST", f"/conversations/{quote(command.conversation_id)}/{action}", command.part()


def article_create(plan: Plan[CreateArticle]) -> Call:
    """Return `POST /articles`."""
    return "POST", "/articles", plan.command.body()


def article_update(plan: Plan[UpdateArticle]) -> Call:
    """Return `PUT /articles/{id}`."""
    return "PUT", f"/articles/{quote(plan.command.article_id)}", plan.command.body()


def company_upsert(plan: Plan[UpsertCompany]) -> Call:
    """Return `POST /companies` (created or updated by company_id)."""
    return "POST", "/companies", plan.command.body()


def upserted(plan: Plan[UpsertCompany], body: dict[str, Any]) -> None:
    """Remember Intercom's id of the company."""
    if body.get("id"):
        plan.caches.companies.put(plan.command.company.company_id, str(body["id"]))


def find_company(plan: Plan[AttachContactToCompany]) -> Call | None:
    """Return the look-up of Intercom's company id, unless it is remembered."""
    if (remembered := plan.caches.companies.get(plan.command.company_id)) is not None:
        plan.values["company"] = remembered
        return None
    return "GET", "/companies?" + urlencode({"company_id": plan.command.company_id}), {}


def found_company(plan: Plan[AttachContactToCompany], body: dict[str, Any]) -> None:
    """Remember Intercom's id of the company."""
    plan.values["company"] = str(body["id"])
    plan.caches.companies.put(plan.command.company_id, plan.values["company"])


def no_company(plan: Plan[AttachContactToCompany], error: IntercomResponseError) -> bool:
    """Fail the command as unresolved when Intercom has no such company."""
    if error.status == 404:
        raise UnresolvedError(f"no company {plan.command.company_id!r}: {error}")
    return False


def attach_company(plan: Plan[AttachContactToCompany]) -> Call:
    """Return `POST /contacts/{id}/companies` with Intercom's company id."""
    body = {"id": plan.value("company")}
    return "POST", f"/contacts/{plan.value('contact_id')}/companies", body


DATA_EVENT: Recipe[CreateDataEvent] = single("event", event)
# A reply, note or close adds a part: a repeat would add it twice.
CONVERSATION_MESSAGE: Recipe[ConversationCommand] = single("part", conversation_call, False)
# An open, snooze or assign sets a state: a repeat changes nothing.
CONVERSATION_STATE: Recipe[ConversationCommand] = single("part", conversation_call)
ARTICLE_CREATE: Recipe[CreateArticle] = single("create", article_create, idempotent=False)
ARTICLE_UPDATE: Recipe[UpdateArticle] = single("update", article_update)
COMPANY_UPSERT: Recipe[UpsertCompany] = (Step("upsert", company_upsert, upserted),)
ATTACH_COMPANY: Recipe[AttachContactToCompany] = (
    RESOLVE_CONTACT,
    Step("company_id", find_company, found_company, no_company),
    Step("attach", attach_company, recover=stale("resolve_contact")),
)
