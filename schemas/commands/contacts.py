"""Contact commands: find-or-create, update, merge, tag and untag."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictStr, model_validator

from schemas.commands.base import (
    CommandBase,
    ContactReference,
    CustomAttributes,
    IntercomId,
    Strict,
    Text,
)

Email = Annotated[StrictStr, Field(max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Name = Annotated[StrictStr, Field(max_length=255)]
TagName = Annotated[StrictStr, Field(min_length=1, max_length=190, pattern=r"\S")]


class NewContact(Strict):
    """The contact to find or create, identified by your `external_id`."""

    external_id: Annotated[Text, Field(max_length=255)]
    email: Email | None = None
    name: Name | None = None
    role: Literal["user", "lead"] = "user"
    custom_attributes: CustomAttributes | None = None


class ContactChanges(Strict):
    """The fields of a contact to change; only those given are sent."""

    email: Email | None = None
    name: Name | None = None
    custom_attributes: CustomAttributes | None = None

    @model_validator(mode="after")
    def _something(self) -> ContactChanges:
        """Require at least one change."""
        if not self.model_dump(exclude_none=True):
            raise ValueError("changes must name at least one of email, name, custom_attributes")
        return self


class FindOrCreateContact(CommandBase):
    """Create the contact, or update the one Intercom already has with this external id."""

    kind: Literal["contact.find_or_create"] = "contact.find_or_create"
    contact: NewContact

    def key(self) -> str:
        """Return `external_id:<external_id>`."""
        return f"external_id:{self.contact.external_id}"


class UpdateContact(ContactReference):
    """Change some fields of an existing contact (`PUT /contacts/{id}`)."""

    kind: Literal["contact.update"] = "contact.update"
    changes: ContactChanges


class MergeContacts(CommandBase):
    """Merge a lead into a user (`POST /contacts/merge`); both are Intercom ids."""

    kind: Literal["contact.merge"] = "contact.merge"
    lead_id: IntercomId
    user_id: IntercomId

    @model_validator(mode="after")
    def _distinct(self) -> MergeContacts:
        """Refuse to merge a contact into itself."""
        if self.lead_id == self.user_id:
            raise ValueError("lead_id and user_id must differ")
        return self

    def key(self) -> str:
        """Return `id:<user_id>`, the contact that survives."""
        return f"id:{self.user_id}"


class TagCommand(ContactReference):
    """A command putting a tag (by name) on a contact or taking it off."""

    tag: TagName


class TagContact(TagCommand):
    """Put a tag (by name, created if needed) on a contact."""

    kind: Literal["contact.tag"] = "contact.tag"


class UntagContact(TagCommand):
    """Take a tag (by name) off a contact."""

    kind: Literal["contact.untag"] = "contact.untag"
