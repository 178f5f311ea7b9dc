"""Contact recipes: find-or-create, update, merge, tag and untag, with the id look-ups."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from schemas.commands import (
    ContactReference,
    FindOrCreateContact,
    MergeContacts,
    UntagContact,
    UpdateContact,
)
from schemas.commands.contacts import TagCommand
from stream_app.writer.cache import Caches
from stream_app.writer.errors import IntercomResponseError, NotFoundError
from stream_app.writer.recipes.plan import Call, Plan, Recipe, Step, UnresolvedError, single

EXISTING_ID = re.compile(r"id=(\w+)")
ContactCommand = ContactReference | FindOrCreateContact


def conflict(error: IntercomResponseError) -> tuple[str, bool] | None:
    """Return (existing id, archived) from a 409 on create, or None for any other error."""
    if error.status != 409:
        return None
    for item in error.errors:
        message = str(item.get("message") or "") if isinstance(item, dict) else ""
        if match := EXISTING_ID.search(message):
            return match.group(1), "archived" in message.lower()
    return None


def search_body(external_id: str) -> dict[str, Any]:
    """Return the search for the one contact with this external id."""
    query = {"field": "external_id", "operator": "=", "value": external_id}
    return {"query": query, "pagination": {"per_page": 1}}


def external_id_of(command: ContactCommand) -> str | None:
    """Return the external id a contact command names, if it names one."""
    if isinstance(command, FindOrCreateContact):
        return command.contact.external_id
    return command.external_id


def resolve_contact(caches: Caches) -> Step[Any]:
    """Return the step that finds the Intercom id: given, cached, else one search."""

    def request(plan: Plan[ContactReference]) -> Call | None:
        command = plan.command
        if command.contact_id is not None or command.external_id is None:
            plan.values["contact_id"] = command.contact_id
            return None
        if (cached := caches.contacts.get(command.external_id)) is not None:
            plan.values.update(contact_id=cached, cached=True)
            return None
        return "POST", "/contacts/search", search_body(command.external_id)

    def take(plan: Plan[ContactReference], body: dict[str, Any]) -> None:
        external_id = str(plan.command.external_id)
        found = [c for c in body.get("data") or [] if isinstance(c, dict) and c.get("id")]
        if not found:
            raise UnresolvedError(f"no Intercom contact has external_id {external_id!r}")
        plan.values["contact_id"] = str(found[0]["id"])
        caches.contacts.put(external_id, plan.values["contact_id"])

    return Step("resolve_contact", request, take)


def stale(caches: Caches, again: str) -> Callable[[Plan[Any], IntercomResponseError], bool]:
    """Return a recovery: a 404 evicts the contact; a cached id is then resolved again, once."""

    def recover(plan: Plan[Any], error: IntercomResponseError) -> bool:
        external_id = external_id_of(plan.command)
        if not isinstance(error, NotFoundError) or external_id is None:
            return False
        caches.contacts.evict(external_id, "404 from Intercom")
        if not plan.values.get("cached") or plan.values.get("retried"):
            return False
        plan.values = {"retried": True}
        plan.done.clear()
        plan.jump = again
        return True

    return recover


def find_or_create(caches: Caches) -> Recipe[FindOrCreateContact]:
    """Return create (or straight to update when cached), 409 -> unarchive? -> update."""

    def known(plan: Plan[FindOrCreateContact]) -> Call | None:
        cached = caches.contacts.get(plan.command.contact.external_id)
        if cached is not None and not plan.values.get("retried"):
            plan.values.update(contact_id=cached, cached=True)
        return None

    def create(plan: Plan[FindOrCreateContact]) -> Call | None:
        if "contact_id" in plan.values:
            return None
        return "POST", "/contacts", plan.command.contact.model_dump(mode="json", exclude_none=True)

    def created(plan: Plan[FindOrCreateContact], body: dict[str, Any]) -> None:
        plan.values.update(contact_id=str(body["id"]), created=True)
        caches.contacts.put(plan.command.contact.external_id, plan.values["contact_id"])

    def exists(plan: Plan[FindOrCreateContact], error: IntercomResponseError) -> bool:
        if (found := conflict(error)) is None:
            return False
        plan.values.update(contact_id=found[0], archived=found[1])
        caches.contacts.put(plan.command.contact.external_id, found[0])
        return True

    return (
        Step("known", known),
        Step("create", create, created, exists),
        Step("unarchive", unarchive),
        Step("update", update_found, recover=stale(caches, "known")),
    )


def unarchive(plan: Plan[FindOrCreateContact]) -> Call | None:
    """Return the unarchive call when the 409 said the contact is archived."""
    if not plan.values.get("archived"):
        return None
    return "POST", f"/contacts/{plan.value('contact_id')}/unarchive", {}


def update_found(plan: Plan[FindOrCreateContact]) -> Call | None:
    """Return the update of a contact that already existed (a new one got every field)."""
    fields = plan.command.contact.model_dump(mode="json", exclude_none=True)
    changes = {k: v for k, v in fields.items() if k not in ("external_id", "role")}
    if plan.values.get("created") or not changes:
        return None
    return "PUT", f"/contacts/{plan.value('contact_id')}", changes


def update_contact(caches: Caches) -> Recipe[UpdateContact]:
    """Return resolve -> `PUT /contacts/{id}` with the changes."""

    def update(plan: Plan[UpdateContact]) -> Call:
        body = plan.command.changes.model_dump(mode="json", exclude_none=True)
        return "PUT", f"/contacts/{plan.value('contact_id')}", body

    recover = stale(caches, "resolve_contact")
    return (resolve_contact(caches), Step("update", update, recover=recover))


def merge(caches: Caches) -> Recipe[MergeContacts]:
    """Return `POST /contacts/merge` (not repeatable: the lead is gone after it)."""

    def build(plan: Plan[MergeContacts]) -> Call:
        body = {"from": plan.command.lead_id, "into": plan.command.user_id}
        return "POST", "/contacts/merge", body

    return single("merge", build, idempotent=False)


def tag_id(caches: Caches) -> Step[TagCommand]:
    """Return the step that finds the tag's id: remembered, else `POST /tags` (create or get)."""

    def request(plan: Plan[TagCommand]) -> Call | None:
        if (known := caches.tags.get(plan.command.tag)) is not None:
            plan.values["tag_id"] = known
            return None
        return "POST", "/tags", {"name": plan.command.tag}

    def take(plan: Plan[TagCommand], body: dict[str, Any]) -> None:
        plan.values["tag_id"] = str(body["id"])
        caches.tags.put(plan.command.tag, plan.values["tag_id"])

    return Step("tag_id", request, take)


def tag(caches: Caches) -> Recipe[TagCommand]:
    """Return resolve -> tag id -> attach (or detach for untag)."""

    def attach(plan: Plan[TagCommand]) -> Call:
        contact = plan.value("contact_id")
        if isinstance(plan.command, UntagContact):
            return "DELETE", f"/contacts/{contact}/tags/{quote(plan.value('tag_id'))}", {}
        return "POST", f"/contacts/{contact}/tags", {"id": plan.value("tag_id")}

    recover = stale(caches, "resolve_contact")
    return (resolve_contact(caches), tag_id(caches), Step("attach", attach, recover=recover))
