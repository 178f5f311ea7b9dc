"""Records the CRM publishes on `crm.contacts` and `crm.companies`, for the CRM sync.

Both are keyed by the CRM's own id (the key must equal `id`) and carry `updated_at` in unix
seconds: a record older than the last one synced for that id is skipped, so the CRM may
republish or replay freely. Unknown fields are rejected, like every contract here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictFloat, StrictInt, StrictStr

from schemas.commands.base import Strict, UnixSeconds

CrmId = Annotated[StrictStr, Field(min_length=1, max_length=255, pattern=r"^\S+$")]
Label = Annotated[StrictStr, Field(max_length=255)]


class CrmContact(Strict):
    """A person in the CRM; becomes an Intercom user with external_id = id."""

    id: CrmId
    email: Label | None = None
    name: Label | None = None
    plan: Label | None = None
    company: CrmId | None = None  # the CRM id of the company (a `crm.companies` record's id)
    updated_at: UnixSeconds


class CrmCompany(Strict):
    """A company in the CRM; becomes an Intercom company with company_id = id."""

    id: CrmId
    name: Label | None = None
    plan: Label | None = None
    monthly_spend: Annotated[StrictInt | StrictFloat, Field(ge=0, le=2**31 - 1)] | None = None
    updated_at: UnixSeconds
