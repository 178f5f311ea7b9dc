"""The fake Intercom's contacts, tags and companies: state and answers as intercom-api.md says.

Each operation takes the parsed JSON body and returns (status, body). Ids are 24-hex strings
like Intercom's. Tests read the state (`contacts`, `tags`, `companies`) after a run.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Answer = tuple[int, dict[str, Any]]
CONTACT_FIELDS = ("email", "name", "phone", "avatar", "owner_id", "signed_up_at", "last_seen_at")


def error(status: int, code: str, message: str) -> Answer:
    """Return an Intercom error answer with a fresh request id."""
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    return status, {
        "type": "error.list",
        "request_id": request_id,
        "errors": [{"code": code, "message": message}],
    }


def user_not_found() -> Answer:
    """Return the 404 of an unknown contact."""
    return error(404, "not_found", "User Not Found")


@dataclass
class Contacts:
    """Contacts with their tags and companies, indexed by external id."""

    clock: Callable[[], float] = time.time
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # tag id -> name
    companies: dict[str, dict[str, Any]] = field(default_factory=dict)  # Intercom id -> company
    merged: dict[str, str] = field(default_factory=dict)  # absorbed id -> surviving id
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        """Return a fresh 24-hex id."""
        return f"{0x5F1A000000000000000000 + next(self._ids):024x}"

    def by_external_id(self, external_id: str) -> dict[str, Any] | None:
        """Return the contact with the external id, archived or not."""
        return next((c for c in self.contacts.values() if c["external_id"] == external_id), None)

    def _duplicate(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Return the contact a create would duplicate (same external id, or same user email)."""
        if body.get("external_id") and (found := self.by_external_id(body["external_id"])):
            return found
        if body.get("email") and body.get("role", "user") == "user":
            return next(
                (
                    c
                    for c in self.contacts.values()
                    if c["email"] == body["email"] and c["role"] == "user"
                ),
                None,
            )
        return None

    def create(self, body: dict[str, Any]) -> Answer:
        """Answer `POST /contacts`: 200 with the contact, 409 naming a duplicate, 400."""
        if not any(body.get(k) for k in ("email", "external_id", "role")):
            return error(400, "parameter_invalid", "email, external_id or role is required")
        if body.get("role", "user") not in ("user", "lead"):
            return error(400, "parameter_invalid", "role must be user or lead")
        if (found := self._duplicate(body)) is not None:
            archived = "An archived contact" if found["archived"] else "A contact"
            message = f"{archived} matching those details already exists with id={found['id']}"
            return error(409, "conflict", message)
        now = int(self.clock())
        contact: dict[str, Any] = {"type": "contact", "id": self.new_id(), "external_id": None}
        contact.update(role="user", email=None, name=None, archived=False, created_at=now)
        contact.update(custom_attributes={}, tag_ids=[], company_ids=[])
        self.contacts[contact["id"]] = contact
        return self.update(contact["id"], body)

    def update(self, contact_id: str, body: dict[str, Any]) -> Answer:
        """Answer `PUT /contacts/{id}`: only the fields sent change; attributes merge by key."""
        contact = self.contacts.get(contact_id)
        if contact is None:
            return user_not_found()
        for name in (*CONTACT_FIELDS, "external_id", "role"):
            if name in body:
                contact[name] = body[name]
        contact["custom_attributes"].update(body.get("custom_attributes") or {})
        contact["updated_at"] = int(self.clock())
        return 200, self.view(contact)

    def view(self, contact: dict[str, Any]) -> dict[str, Any]:
        """Return the contact as Intercom shows it."""
        shown = {k: v for k, v in contact.items() if k not in ("tag_ids", "company_ids")}
        tags = [{"type": "tag", "id": t} for t in contact["tag_ids"]]
        shown["tags"] = {"type": "list", "data": tags, "total_count": len(tags)}
        return shown

    def get(self, contact_id: str) -> Answer:
        """Answer `GET /contacts/{id}`."""
        contact = self.contacts.get(contact_id)
        return (200, self.view(contact)) if contact else user_not_found()

    def archive(self, contact_id: str, archived: bool) -> Answer:
        """Answer `POST /contacts/{id}/archive` and `/unarchive`."""
        contact = self.contacts.get(contact_id)
        if contact is None:
            return user_not_found()
        contact["archived"] = archived
        ids = {k: contact[k] for k in ("id", "external_id")}
        return 200, {"type": "contact", **ids, "archived": archived}

    def delete(self, contact_id: str) -> Answer:
        """Answer `DELETE /contacts/{id}`."""
        contact = self.contacts.pop(contact_id, None)
        if contact is None:
            return user_not_found()
        return 200, {
            "type": "contact",
            "id": contact_id,
            "external_id": contact["external_id"],
            "deleted": True,
        }

    def merge(self, body: dict[str, Any]) -> Answer:
        """Answer `POST /contacts/merge {from, into}`: the lead is absorbed into the user."""
        lead, user = (
            self.contacts.get(body.get("from") or ""),
            self.contacts.get(body.get("into") or ""),
        )
        if lead is None or user is None:
            return user_not_found()
        if lead["role"] != "lead" or user["role"] != "user":
            return error(400, "parameter_invalid", "from must be a lead and into a user")
        del self.contacts[lead["id"]]
        self.merged[lead["id"]] = user["id"]
        user["tag_ids"] = sorted({*user["tag_ids"], *lead["tag_ids"]})
        return 200, self.view(user)

    def tag_by_name(self, body: dict[str, Any]) -> Answer:
        """Answer `POST /tags {name}`: create the tag, or return the one of that name."""
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return error(400, "parameter_invalid", "invalid tag parameters")
        found = next((i for i, n in self.tags.items() if n.lower() == name.lower()), None)
        tag_id = found or str(100 + len(self.tags))
        self.tags.setdefault(tag_id, name)
        return 200, {"type": "tag", "id": tag_id, "name": self.tags[tag_id]}

    def tag(self, contact_id: str, tag_id: str | None, present: bool) -> Answer:
        """Answer attaching (`POST /contacts/{id}/tags`) or detaching a tag."""
        contact = self.contacts.get(contact_id)
        if contact is None:
            return user_not_found()
        if tag_id not in self.tags:
            return error(404, "not_found", "Resource Not Found")
        others = [t for t in contact["tag_ids"] if t != tag_id]
        contact["tag_ids"] = [*others, tag_id] if present else others
        return 200, {"type": "tag", "id": tag_id, "name": self.tags[tag_id]}

    def upsert_company(self, body: dict[str, Any]) -> Answer:
        """Answer `POST /companies`: created if its company_id is new, else updated."""
        company_id = body.get("company_id")
        if not isinstance(company_id, str) or not company_id:
            return error(400, "bad_request", "bad 'company_id' parameter")
        company = self.company(company_id) or {"type": "company", "id": self.new_id()}
        company.update({k: v for k, v in body.items() if k != "custom_attributes"})
        company.setdefault("custom_attributes", {}).update(body.get("custom_attributes") or {})
        company["user_count"] = sum(
            company["id"] in c["company_ids"] for c in self.contacts.values()
        )
        self.companies[company["id"]] = company
        return 200, company

    def company(self, company_id: str) -> dict[str, Any] | None:
        """Return the company with your company_id."""
        return next((c for c in self.companies.values() if c["company_id"] == company_id), None)

    def find_company(self, company_id: str | None) -> Answer:
        """Answer `GET /companies?company_id=`."""
        found = self.company(company_id or "")
        return (200, found) if found else error(404, "company_not_found", "Company Not Found")

    def attach_company(self, contact_id: str, body: dict[str, Any]) -> Answer:
        """Answer `POST /contacts/{id}/companies {id}` (Intercom's company id)."""
        if not body.get("id"):
            return error(400, "parameter_not_found", "company not specified")
        company = self.companies.get(body["id"])
        if company is None:
            return error(404, "company_not_found", "Company Not Found")
        contact = self.contacts.get(contact_id)
        if contact is None:
            return user_not_found()
        if company["id"] not in contact["company_ids"]:
            contact["company_ids"].append(company["id"])
            company["user_count"] = company.get("user_count", 0) + 1
        return 200, company
