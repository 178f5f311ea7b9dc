"""Read models kept by the worker and served on its web server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConversationState(BaseModel):
    """The latest known state of a conversation."""

    model_config = ConfigDict(frozen=True)

    id: str
    state: str | None = None
    admin_assignee_id: str | None = None
    team_assignee_id: str | None = None
    contact_id: str | None = None
    contact_external_id: str | None = None
    version: int
    last_topic: str
    last_notification_id: str | None = None


class TagMark(BaseModel):
    """Whether a tag is on a contact, as of the newest change seen for that tag."""

    model_config = ConfigDict(frozen=True)

    present: bool
    version: int


class ContactState(BaseModel):
    """The latest known state of a contact; each tag is versioned on its own."""

    model_config = ConfigDict(frozen=True)

    id: str
    role: str | None = None
    email: str | None = None
    external_id: str | None = None
    name: str | None = None
    version: int = 0
    last_topic: str | None = None
    tags: dict[str, TagMark] = {}

    def tag_names(self) -> list[str]:
        """Return the names of the tags currently on the contact, sorted."""
        return sorted(name for name, mark in self.tags.items() if mark.present)
