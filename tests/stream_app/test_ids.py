"""Deterministic ids (stream_app.ids)."""

from __future__ import annotations

import uuid

import pytest

from stream_app.ids import Uuid5

NAMESPACE = uuid.UUID("1d6f2a8e-7b0c-4c39-8e0b-5f3a9d2c7e44")


@pytest.mark.parametrize(
    "name", ["", "notif-1/conversation.admin.closed", "é/ü" * 40, "a" * 1000, "\x00"]
)
def test_the_text_is_the_standard_library_s_uuid5(name: str) -> None:
    """Every id equals the standard library's, so ids issued before stay the same."""
    assert Uuid5(NAMESPACE).text(name) == str(uuid.uuid5(NAMESPACE, name))


def test_one_namespace_gives_each_name_its_own_id_in_any_order() -> None:
    """The prepared state is copied for each id: no name leaks into the next one."""
    ids = Uuid5(NAMESPACE)
    names = ["a", "b", "a", "", "b" * 100, "a"]
    assert [ids.text(name) for name in names] == [str(uuid.uuid5(NAMESPACE, n)) for n in names]
