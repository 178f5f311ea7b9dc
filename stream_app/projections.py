"""Pure merge functions: apply a change to a projection only if it is newer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.projections import ContactState, ConversationState, TagMark
from stream_app.outputs import ContactTagChange, ContactUpdate, ConversationUpdate


def merge_conversation(
    current: Mapping[str, Any] | None, change: ConversationUpdate
) -> ConversationState | None:
    """Return the new state, or None when the stored one (a dumped state) is newer.

    Only the stored version counts, so the stored state is not validated back into a model.
    """
    if current is not None and current["version"] > change.state.version:
        return None
    return change.state


def merge_contact(current: ContactState | None, change: ContactUpdate) -> ContactState | None:
    """Return the contact with newer fields, keeping its tags, or None when not newer."""
    if current is not None and current.version > change.state.version:
        return None
    tags = current.tags if current is not None else {}
    return change.state.model_copy(update={"tags": tags})


def merge_tag(current: ContactState | None, change: ContactTagChange) -> ContactState | None:
    """Return the contact with the tag changed, or None when that tag has a newer change."""
    base = current or ContactState(id=change.contact_id)
    mark = base.tags.get(change.tag)
    if mark is not None and mark.version > change.version:
        return None
    tags = {**base.tags, change.tag: TagMark(present=change.present, version=change.version)}
    return base.model_copy(update={"tags": tags})
