"""Company commands: upsert by your company_id, and attach a contact."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr

from schemas.commands.base import CommandBase, ContactReference, CustomAttributes, Strict

CompanyId = Annotated[StrictStr, Field(min_length=1, max_length=255, pattern=r"\S")]
MAX_MONTHLY_SPEND = 2**31 - 1


class Company(Strict):
    """The body of `POST /companies`: created if `company_id` is new, else updated."""

    company_id: CompanyId
    name: Annotated[StrictStr, Field(max_length=255)] | None = None
    plan: Annotated[StrictStr, Field(max_length=255)] | None = None
    monthly_spend: Annotated[StrictInt, Field(ge=0, le=MAX_MONTHLY_SPEND)] | None = None
    size: Annotated[StrictInt, Field(ge=0)] | None = None
    website: Annotated[StrictStr, Field(max_length=2048)] | None = None
    industry: Annotated[StrictStr, Field(max_length=255)] | None = None
    custom_attributes: CustomAttributes | None = None


class UpsertCompany(CommandBase):
    """Create or update a company by your id."""

    kind: Literal["company.upsert"] = "company.upsert"
    company: Company

    def key(self) -> str:
        """Return `company:<company_id>`."""
        return f"company:{self.company.company_id}"

    def body(self) -> dict[str, Any]:
        """Return the body of `POST /companies`."""
        return self.company.model_dump(mode="json", exclude_none=True)


class AttachContactToCompany(ContactReference):
    """Attach a contact to a company named by your company_id.

    Keyed by the contact, not the company: it acts on the contact (`POST
    /contacts/{id}/companies`), must follow that contact's find-or-create, and reads the
    contact cache of the contact's partition.
    """

    kind: Literal["company.attach_contact"] = "company.attach_contact"
    company_id: CompanyId
