"""Every command kind: its example validates, its key, and what it rejects."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.commands import (
    COMMAND_ADAPTER,
    KINDS,
    command_bytes,
    command_record,
    parse_command,
)
from tests.schemas.command_examples import example

DOCS = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def test_every_kind_has_an_example_that_round_trips() -> None:
    """Each example parses, and its bytes parse back equal."""
    for kind in KINDS:
        parsed = parse_command(orjson.dumps(example(kind)))
        assert parse_command(command_bytes(parsed)) == parsed, kind


def test_every_kind_s_bytes_are_what_the_union_s_adapter_writes() -> None:
    """The command's own serializer writes the same bytes as the union's adapter."""
    for kind in KINDS:
        parsed = parse_command(orjson.dumps(example(kind)))
        assert command_bytes(parsed) == COMMAND_ADAPTER.dump_json(parsed, exclude_none=True), kind


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("data_event.create", "external_id:u-42"),
        ("contact.find_or_create", "external_id:u-42"),
        ("contact.update", "external_id:u-42"),
        ("contact.merge", "id:5f1a0000000000000000000b"),
        ("contact.untag", "id:5f1a0000000000000000000b"),
        ("conversation.close", "conversation:515"),
        ("article.create", "article:new"),
        ("article.update", "article:42"),
        ("company.upsert", "company:acme-1"),
        ("company.attach_contact", "external_id:u-42"),
    ],
)
def test_each_kind_is_keyed_by_its_subject(kind: str, key: str) -> None:
    """The record key names the contact, conversation, article or company."""
    assert command_record(parse_command(orjson.dumps(example(kind))))[0] == key.encode()


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("contact.find_or_create", {"contact": {"email": "a@b.co"}}, "external_id"),
        ("contact.find_or_create", {"contact": {"external_id": "x", "role": "bot"}}, "role"),
        ("contact.find_or_create", {"contact": {"external_id": "x", "email": "nope"}}, "email"),
        ("contact.update", {"changes": {}}, "at least one"),
        ("contact.update", {"contact_id": "abc"}, "exactly one of contact_id, external_id"),
        ("contact.merge", {"user_id": "5f1a0000000000000000000a"}, "must differ"),
        ("contact.tag", {"tag": "  "}, "tag"),
        ("conversation.reply", {"body": ""}, "body"),
        ("conversation.reply", {"admin_id": 991}, "admin_id"),
        ("conversation.snooze", {"snoozed_until": 1_763_800_000_000}, "less than or equal"),
        ("conversation.assign", {"assignee_type": "bot"}, "assignee_type"),
        ("article.create", {"article": {"title": "t", "body": "b"}}, "author_id"),
        (
            "article.create",
            {"article": {"title": "t", "body": "", "author_id": 1, "parent_id": 3}},
            "go together",
        ),
        ("article.update", {"changes": {}}, "at least one"),
        (
            "company.upsert",
            {"company": {"company_id": "a", "monthly_spend": 2**31}},
            "monthly_spend",
        ),
        ("company.upsert", {"company": {"company_id": "a", "extra": 1}}, "extra"),
        ("company.attach_contact", {"company_id": ""}, "company_id"),
        ("conversation.open", {"surprise": True}, "surprise"),
    ],
)
def test_invalid_commands_are_rejected(kind: str, fields: dict[str, Any], message: str) -> None:
    """Each rule of the contract rejects with an error naming the problem."""
    with pytest.raises(ValidationError, match=message):
        parse_command(orjson.dumps(example(kind, **fields)))


def test_every_kind_is_documented_with_a_valid_example() -> None:
    """docs/commands.md has a JSON example of each kind, and each one validates."""
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    documented = {}
    for block in blocks:
        data = json.loads(block)
        if isinstance(data, dict) and "kind" in data:
            documented[data["kind"]] = parse_command(orjson.dumps(data))
    assert sorted(documented) == sorted(KINDS)
