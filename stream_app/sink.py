"""Carries handler outputs out: commands and events to topics, changes to projection tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.commands import command_record
from schemas.projections import ContactState
from stream_app.outputs import (
    ContactTagChange,
    ContactUpdate,
    ConversationUpdate,
    Emit,
    Output,
    SendCommand,
)
from stream_app.ports import Flush, Publish, Table, nothing_to_flush
from stream_app.projections import merge_contact, merge_conversation, merge_tag


class OutputSink:
    """Publishes outputs and applies projection changes if they are newer."""

    def __init__(
        self,
        commands: Publish,
        events: dict[str, Publish],
        conversations: Table,
        contacts: Table,
        flush: Flush = nothing_to_flush,
    ) -> None:
        """Keep the publishers per destination, the projection tables and their flush."""
        self._commands = commands
        self._events = events
        self._conversations = conversations
        self._contacts = contacts
        self._flush = flush

    async def publish(self, outputs: Sequence[Output]) -> list[Any]:
        """Send or apply every output; return the acknowledgement futures of every record.

        The projections' changelog records count too: the notification is marked done only
        once its table changes are on Kafka as well.
        """
        acks = []
        for output in outputs:
            if isinstance(output, SendCommand):
                acks.append(await self._commands(*command_record(output.command)))
            elif isinstance(output, Emit):
                value = output.event.model_dump_json().encode()
                acks.append(await self._events[output.stream](output.key.encode(), value, []))
            else:
                self.apply(output)
        acks.extend(await self._flush())
        return acks

    def apply(self, change: ConversationUpdate | ContactUpdate | ContactTagChange) -> None:
        """Write a projection change to its table when it is newer than what the table holds."""
        if isinstance(change, ConversationUpdate):
            key = change.state.id
            if (new := merge_conversation(self._conversations.get(key), change)) is not None:
                self._conversations[key] = new.model_dump()
            return
        key = change.state.id if isinstance(change, ContactUpdate) else change.contact_id
        current = self._contacts.get(key)
        contact = ContactState.model_validate(current) if current else None
        merged = (
            merge_contact(contact, change)
            if isinstance(change, ContactUpdate)
            else merge_tag(contact, change)
        )
        if merged is not None:
            self._contacts[key] = merged.model_dump()
