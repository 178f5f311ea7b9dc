"""Conversation commands: reply, note, close, open, snooze and assign as an admin."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictStr

from schemas.commands.base import CommandBase, IntercomId, UnixSeconds

Body = Annotated[StrictStr, Field(min_length=1, max_length=65_536, pattern=r"\S")]


class ConversationCommand(CommandBase):
    """A command acting on one conversation as one admin."""

    conversation_id: IntercomId
    admin_id: IntercomId

    def key(self) -> str:
        """Return `conversation:<conversation_id>`."""
        return f"conversation:{self.conversation_id}"

    def part(self) -> dict[str, Any]:
        """Return the body of the call (every conversation command is one call)."""
        raise NotImplementedError


class AdminMessage(ConversationCommand):
    """A message written as an admin (`POST /conversations/{id}/reply`)."""

    message_type: ClassVar[str]
    body: Body

    def part(self) -> dict[str, Any]:
        """Return the admin reply body."""
        return {
            "message_type": self.message_type,
            "type": "admin",
            "admin_id": self.admin_id,
            "body": self.body,
        }


class ReplyToConversation(AdminMessage):
    """Reply to the customer as an admin (`comment`)."""

    kind: Literal["conversation.reply"] = "conversation.reply"
    message_type: ClassVar[str] = "comment"


class NoteConversation(AdminMessage):
    """Add an internal note as an admin (`note`)."""

    kind: Literal["conversation.note"] = "conversation.note"
    message_type: ClassVar[str] = "note"


class CloseConversation(ConversationCommand):
    """Close the conversation, optionally with a message (`POST /conversations/{id}/parts`)."""

    kind: Literal["conversation.close"] = "conversation.close"
    body: Body | None = None

    def part(self) -> dict[str, Any]:
        """Return the close part."""
        part: dict[str, Any] = {"message_type": "close", "type": "admin", "admin_id": self.admin_id}
        return part | ({"body": self.body} if self.body is not None else {})


class OpenConversation(ConversationCommand):
    """Reopen the conversation (`POST /conversations/{id}/parts`, `open`)."""

    kind: Literal["conversation.open"] = "conversation.open"

    def part(self) -> dict[str, Any]:
        """Return the open part."""
        return {"message_type": "open", "admin_id": self.admin_id}


class SnoozeConversation(ConversationCommand):
    """Snooze the conversation until a unix time (`POST /conversations/{id}/parts`, `snoozed`)."""

    kind: Literal["conversation.snooze"] = "conversation.snooze"
    snoozed_until: UnixSeconds

    def part(self) -> dict[str, Any]:
        """Return the snooze part (Intercom's value is `snoozed`, and it takes no `type`)."""
        return {
            "message_type": "snoozed",
            "admin_id": self.admin_id,
            "snoozed_until": self.snoozed_until,
        }


class AssignConversation(ConversationCommand):
    """Assign the conversation to an admin or a team (`"0"` unassigns)."""

    kind: Literal["conversation.assign"] = "conversation.assign"
    assignee_id: IntercomId
    assignee_type: Literal["admin", "team"]

    def part(self) -> dict[str, Any]:
        """Return the assignment part."""
        return {
            "message_type": "assignment",
            "type": self.assignee_type,
            "admin_id": self.admin_id,
            "assignee_id": self.assignee_id,
        }
