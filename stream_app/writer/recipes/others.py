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
from stream_app.writer.cache import Caches
from stream_app.writer.errors import IntercomResponseError
from stream_app.writer.recipes.contacts import resolve_contact, stale
from stream_app.writer.recipes.plan import Call, Plan, Recipe, Step, UnresolvedError, single


def data_event(caches: Caches) -> Recipe[CreateDataEvent]:
    """Return `POST /events` (Intercom deduplicates it)."""
    return single("event", lambda plan: plan.command.request())


def conversation_call(plan: Plan[ConversationCommand]) -> Call:
    """Return the one call of a conversation command (reply or parts)."""
    command = plan.command
    action = "reply" if isinstance(command, AdminMessage) else "parts"
    return "POST", f"/conversations/{quote(command.conversation_id)}/{action}", command.part()


def conversation_message(caches: Caches) -> Recipe[ConversationCommand]:
    """Return a reply, note or close: each adds a part, so a repeat would add it twice."""
    return single("part", conversation_call, idempotent=False)


def conversation_state(caches: Caches) -> Recipe[ConversationCommand]:
    """Return an open, snooze or assign: each sets a state, so a repeat changes nothing."""
    return single("part", conversation_call)


def article_create(caches: Caches) -> Recipe[CreateArticle]:
    """Return `POST /articles`: a repeat would make a second article."""
    return single("create", lambda plan: ("POST", "/articles", plan.command.body()), False)


def article_update(caches: Caches) -> Recipe[UpdateArticle]:
    """Return `PUT /articles/{id}`."""

    def build(plan: Plan[UpdateArticle]) -> Call:
        return "PUT", f"/articles/{quote(plan.command.article_id)}", plan.command.body()

    return single("update", build)


def company_upsert(caches: Caches) -> Recipe[UpsertCompany]:
    """Return `POST /companies`, remembering Intercom's id of the company."""

    def take(plan: Plan[UpsertCompany], body: dict[str, Any]) -> None:
        if body.get("id"):
            caches.companies.put(plan.command.company.company_id, str(body["id"]))

    return (Step("upsert", lambda plan: ("POST", "/companies", plan.command.body()), take),)


def company_id(caches: Caches) -> Step[AttachContactToCompany]:
    """Return the step finding Intercom's id of your company_id: remembered, else one GET."""

    def request(plan: Plan[AttachContactToCompany]) -> Call | None:
        if (known := caches.companies.get(plan.command.company_id)) is not None:
            plan.values["company"] = known
            return None
        return "GET", "/companies?" + urlencode({"company_id": plan.command.company_id}), {}

    def take(plan: Plan[AttachContactToCompany], body: dict[str, Any]) -> None:
        plan.values["company"] = str(body["id"])
        caches.companies.put(plan.command.company_id, plan.values["company"])

    def missing(plan: Plan[AttachContactToCompany], error: IntercomResponseError) -> bool:
        if error.status == 404:
            raise UnresolvedError(f"no company {plan.command.company_id!r}: {error}")
        return False

    return Step("company_id", request, take, missing)


def attach_company(caches: Caches) -> Recipe[AttachContactToCompany]:
    """Return resolve contact -> company id -> `POST /contacts/{id}/companies`."""

    def attach(plan: Plan[AttachContactToCompany]) -> Call:
        body = {"id": plan.value("company")}
        return "POST", f"/contacts/{plan.value('contact_id')}/companies", body

    recover = stale(caches, "resolve_contact")
    return (resolve_contact(caches), company_id(caches), Step("attach", attach, recover=recover))
