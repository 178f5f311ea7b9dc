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


def external_id_of(command: ContactCommand) -> str | None:
    """Return the external id a contact command names, if it names one."""
    if isinstance(command, FindOrCreateContact):
        return command.contact.external_id
    return command.external_id


def find_contact(plan: Plan[ContactReference]) -> Call | None:
    """Return the search for the contact, unless its id is given or cached."""
    command = plan.command
    if command.contact_id is not None or command.external_id is None:
        plan.values["contact_id"] = command.contact_id
        return None
    if (cached := plan.caches.contacts.get(command.external_id)) is not None:
        plan.values.update(contact_id=cached, cached=True)
        return None
    query = {"field": "external_id", "operator": "=", "value": command.external_id}
    return "POST", "/contacts/search", {"query": query, "pagination": {"per_page": 1}}


def found_contact(plan: Plan[ContactReference], body: dict[str, Any]) -> None:
    """Take the contact id from the search, or fail the command when there is none."""
    external_id = str(plan.command.external_id)
    found = [c for c in body.get("data") or [] if isinstance(c, dict) and c.get("id")]
    if not found:
        raise UnresolvedError(f"no Intercom contact has external_id {external_id!r}")
    plan.values["contact_id"] = str(found[0]["id"])
    plan.caches.contacts.put(external_id, plan.values["contact_id"])


RESOLVE_CONTACT: Step[Any] = Step("resolve_contact", find_contact, found_contact)


def stale(again: str) -> Callable[[Plan[Any], IntercomResponseError], bool]:
    """Return a recovery: a 404 evicts the contact; a cached id is then resolved again, once."""

    def recover(plan: Plan[Any], error: IntercomResponseError) -> bool:
        external_id = external_id_of(plan.command)
        if not isinstance(error, NotFoundError) or external_id is None:
            return False
        plan.caches.contacts.evict(external_id, "404 from Intercom")
        if not plan.values.get("cached") or plan.values.get("retried"):
            return False
        plan.values = {"retried": True}
        plan.done.clear()
        plan.jump = again
        return True

    return recover


def known(plan: Plan[FindOrCreateContact]) -> Call | None:
    """Take the contact id from the cache when it is there (no call either way)."""
    cached = plan.caches.contacts.get(plan.command.contact.external_id)
    if cached is not None and not plan.values.get("retried"):
        plan.values.update(contact_id=cached, cached=True)
    return None


def create(plan: Plan[FindOrCreateContact]) -> Call | None:
    """Return the create with every field, unless the contact is known."""
    if "contact_id" in plan.values:
        return None
    return "POST", "/contacts", plan.command.contact.model_dump(mode="json", exclude_none=True)


def created(plan: Plan[FindOrCreateContact], body: dict[str, Any]) -> None:
    """Remember the new contact's id."""
    plan.values.update(contact_id=str(body["id"]), created=True)
    plan.caches.contacts.put(plan.command.contact.external_id, plan.values["contact_id"])


def exists(plan: Plan[FindOrCreateContact], error: IntercomResponseError) -> bool:
    """Take the existing contact's id (and whether it is archived) from a 409."""
    if (found := conflict(error)) is None:
        return False
    plan.values.update(contact_id=found[0], archived=found[1])
    plan.caches.contacts.put(plan.command.contact.external_id, found[0])
    return True


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


FIND_OR_CREATE: Recipe[FindOrCreateContact] = (
    Step("known", known),
    Step("create", create, created, exists),
    Step("unarchive", unarchive),
    Step("update", update_found, recover=stale("known")),
)


def update(plan: Plan[UpdateContact]) -> Call:
    """Return `PUT /contacts/{id}` with the changes."""
    body = plan.command.changes.model_dump(mode="json", exclude_none=True)
    return "PUT", f"/contacts/{plan.value('contact_id')}", body


UPDATE: Recipe[UpdateContact] = (
    RESOLVE_CONTACT,
    Step("update", update, recover=stale("resolve_contact")),
)


def merge(plan: Plan[MergeContacts]) -> Call:
    """Return `POST /contacts/merge` (not repeatable: the lead is gone after it)."""
    return "POST", "/contacts/merge", {"from": plan.command.lead_id, "into": plan.command.user_id}


MERGE: Recipe[MergeContacts] = single("merge", merge, idempotent=False)


def find_tag(plan: Plan[TagCommand]) -> Call | None:
    """Return `POST /tags {name}` (create or get), unless the tag's id is remembered."""
    if (remembered := plan.caches.tags.get(plan.command.tag)) is not None:
        plan.values["tag_id"] = remembered
        return None
    return "POST", "/tags", {"name": plan.command.tag}


def found_tag(plan: Plan[TagCommand], body: dict[str, Any]) -> None:
    """Remember the tag's id."""
    plan.values["tag_id"] = str(body["id"])
    plan.caches.tags.put(plan.command.tag, plan.values["tag_id"])


def attach_tag(plan: Plan[TagCommand]) -> Call:
    """Return the attach (tag) or the detach (untag)."""
    contact = plan.value("contact_id")
    if isinstance(plan.command, UntagContact):
        return "DELETE", f"/contacts/{contact}/tags/{quote(plan.value('tag_id'))}", {}
    return "POST", f"/contacts/{contact}/tags", {"id": plan.value("tag_id")}


TAG: Recipe[TagCommand] = (
    RESOLVE_CONTACT,
    Step("tag_id", find_tag, found_tag),
    Step("attach", attach_tag, recover=stale("resolve_contact")),
)
