"""Unit tests of the projection merge functions."""

from __future__ import annotations

from schemas.projections import ContactState, ConversationState, TagMark
from stream_app.outputs import ContactTagChange, ContactUpdate, ConversationUpdate
from stream_app.projections import merge_contact, merge_conversation, merge_tag


def conversation(version: int, state: str = "open") -> ConversationState:
    """Return a conversation state at a version."""
    return ConversationState(id="cv1", state=state, version=version, last_topic="t")


def contact(version: int, email: str, tags: dict[str, TagMark] | None = None) -> ContactState:
    """Return a contact state at a version."""
    return ContactState(id="c1", email=email, version=version, tags=tags or {})


def test_a_first_conversation_state_is_taken() -> None:
    """With nothing stored the change becomes the state."""
    new = conversation(10)
    assert merge_conversation(None, ConversationUpdate(new)) == new


def test_a_newer_conversation_state_replaces_the_older() -> None:
    """A change with a higher version replaces the stored state."""
    new = conversation(20, "closed")
    assert merge_conversation(conversation(10).model_dump(), ConversationUpdate(new)) == new


def test_an_older_conversation_state_is_ignored() -> None:
    """A change older than the stored state (arriving late) writes nothing."""
    assert (
        merge_conversation(
            conversation(20, "closed").model_dump(), ConversationUpdate(conversation(10))
        )
        is None
    )


def test_a_conversation_state_of_the_same_version_replaces_the_stored_one() -> None:
    """Equal versions apply, so a redelivered change is idempotent rather than lost."""
    new = conversation(10, "snoozed")
    assert merge_conversation(conversation(10).model_dump(), ConversationUpdate(new)) == new


def test_newer_contact_fields_keep_the_stored_tags() -> None:
    """A newer contact update replaces the fields but keeps the tags it does not carry."""
    tags = {"vip": TagMark(present=True, version=5)}
    change = ContactUpdate(
        contact(20, "new@example.com", {"ignored": TagMark(present=True, version=99)})
    )
    merged = merge_contact(contact(10, "old@example.com", tags), change)
    assert merged is not None
    assert (merged.email, merged.version) == ("new@example.com", 20)
    assert merged.tags == tags


def test_a_first_contact_update_starts_without_tags() -> None:
    """With nothing stored, the update's own tags are dropped: tags come from tag changes only."""
    change = ContactUpdate(contact(20, "a@example.com", {"x": TagMark(present=True, version=1)}))
    merged = merge_contact(None, change)
    assert merged is not None
    assert merged.tags == {}
    assert merged.email == "a@example.com"


def test_older_contact_fields_are_ignored() -> None:
    """A contact update older than the stored fields writes nothing."""
    assert merge_contact(contact(20, "new@example.com"), ContactUpdate(contact(10, "old"))) is None


def test_a_tag_change_on_an_unknown_contact_creates_it() -> None:
    """Tagging a contact not yet projected creates it with that tag only."""
    merged = merge_tag(None, ContactTagChange("c1", "vip", True, 100))
    assert merged is not None
    assert merged.id == "c1"
    assert merged.tag_names() == ["vip"]
    assert merged.tags == {"vip": TagMark(present=True, version=100)}


def test_a_tag_change_keeps_the_contact_fields_and_other_tags() -> None:
    """A tag change touches only that tag."""
    stored = contact(10, "a@example.com", {"gold": TagMark(present=True, version=1)})
    merged = merge_tag(stored, ContactTagChange("c1", "vip", True, 100))
    assert merged is not None
    assert (merged.email, merged.version) == ("a@example.com", 10)
    assert merged.tag_names() == ["gold", "vip"]


def test_a_removal_arriving_before_its_older_add_wins() -> None:
    """Per tag, the newest change wins: an add older than a removal already applied is ignored."""
    removed = merge_tag(None, ContactTagChange("c1", "vip", False, 200))
    assert removed is not None
    assert merge_tag(removed, ContactTagChange("c1", "vip", True, 100)) is None
    assert removed.tag_names() == []


def test_an_add_then_a_newer_removal_takes_the_tag_off() -> None:
    """In order, add then remove leaves the tag off."""
    added = merge_tag(None, ContactTagChange("c1", "vip", True, 100))
    removed = merge_tag(added, ContactTagChange("c1", "vip", False, 200))
    assert removed is not None
    assert removed.tags["vip"] == TagMark(present=False, version=200)
    assert removed.tag_names() == []


def test_tags_are_versioned_independently() -> None:
    """An old change to one tag still applies when another tag has a newer change."""
    stored = merge_tag(None, ContactTagChange("c1", "vip", True, 500))
    merged = merge_tag(stored, ContactTagChange("c1", "gold", True, 100))
    assert merged is not None
    assert merged.tag_names() == ["gold", "vip"]


def test_tag_names_lists_only_present_tags_sorted() -> None:
    """tag_names returns the tags currently on the contact, in name order."""
    state = ContactState(
        id="c1",
        tags={
            "b": TagMark(present=True, version=1),
            "a": TagMark(present=True, version=1),
            "c": TagMark(present=False, version=2),
        },
    )
    assert state.tag_names() == ["a", "b"]
