"""Unit tests of the declarative rules that turn notifications into commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from intercom_stream.errors import ConfigurationError
from schemas.commands import command_bytes, parse_command
from stream_app.outputs import SendCommand
from stream_app.rules import (
    Rule,
    apply_rule,
    command_id,
    first_value,
    load_rules,
    resolve,
)
from tests.stream_app import factories

CLOSED_ITEM = factories.conversation_item(
    admin_assignee_id="991267",
    conversation_parts={
        "type": "conversation_part.list",
        "conversation_parts": [
            {"type": "conversation_part", "author": {"type": "admin", "id": "111"}},
            {"type": "conversation_part", "author": {"type": "admin", "id": "222"}},
        ],
    },
)


def rule_named(name: str) -> Rule:
    """Return one of the shipped rules by name."""
    return next(rule for rule in load_rules().rules if rule.name == name)


def body(out: SendCommand) -> Any:
    """Return the command as the JSON object written to the command topic."""
    return orjson.loads(command_bytes(out.command))


def write_rules(tmp_path: Path, text: str) -> Path:
    """Write a rule file and return its path."""
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_the_shipped_rules_load() -> None:
    """The rule file shipped with the package is valid and holds the documented rules."""
    rules = load_rules()
    assert [rule.name for rule in rules.rules] == [
        "conversation-closed",
        "conversation-started",
        "contact-tagged",
        "lead-signed-up",
    ]
    assert [rule.name for rule in rules.matching("conversation.admin.closed")] == [
        "conversation-closed"
    ]
    assert [rule.name for rule in rules.matching("contact.lead.tag.created")] == ["contact-tagged"]
    assert rules.matching("contact.user.tag.deleted") == []


def test_resolve_walks_models_dicts_and_lists() -> None:
    """A dotted path goes through model attributes, dict keys and list indexes."""
    n = factories.notification("conversation.admin.closed", CLOSED_ITEM)
    assert resolve(n, "data.item.contacts.contacts.0.id") == factories.CONTACT_ID
    assert resolve(n, "data.item.conversation_parts.conversation_parts.0.author.id") == "111"
    assert resolve(n, "data.item.conversation_parts.conversation_parts.-1.author.id") == "222"
    assert resolve(n, "data.item.custom_attributes.plan") == "pro"
    assert resolve(n, "app_id") == "abc123de"


@pytest.mark.parametrize(
    "path",
    [
        "data.item.nothing",
        "data.item.contacts.contacts.5.id",
        "data.item.contacts.contacts.-5.id",
        "data.item.contacts.contacts.first.id",
        "data.item.custom_attributes.missing.deeper",
        "data.item.team_assignee_id.id",
    ],
)
def test_resolve_returns_none_for_a_path_that_leads_nowhere(path: str) -> None:
    """A missing attribute, key or index (or a None on the way) gives None, never an error."""
    n = factories.notification("conversation.admin.closed", CLOSED_ITEM)
    assert resolve(n, path) is None


def test_first_value_skips_empty_values() -> None:
    """The first path with a non-empty value wins; a single path may be given as a string."""
    n = factories.notification("conversation.admin.closed", CLOSED_ITEM)
    assert first_value(n, ["data.item.nothing", "data.item.source.subject", "data.item.id"]) == (
        factories.CONVERSATION_ID
    )
    assert first_value(n, "data.item.id") == factories.CONVERSATION_ID
    assert first_value(n, ["data.item.nothing"]) is None


def test_apply_rule_builds_the_command_of_a_closed_conversation() -> None:
    """conversation.admin.closed becomes `closed-conversation` for the first contact."""
    n = factories.notification("conversation.admin.closed", CLOSED_ITEM)
    out = apply_rule(rule_named("conversation-closed"), n)
    assert out is not None
    cid = command_id(factories.NOTIFICATION_ID, "conversation-closed")
    assert out.command.contact_key() == f"id:{factories.CONTACT_ID}"
    assert body(out) == {
        "kind": "data_event.create",
        "command_id": cid,
        "source": "rule:conversation-closed",
        "issued_at_ms": factories.CREATED_AT * 1000,
        "force": False,
        "event": {
            "event_name": "closed-conversation",
            "created_at": factories.CREATED_AT,
            "id": factories.CONTACT_ID,
            "metadata": {"conversation_id": factories.CONVERSATION_ID, "admin_id": "222"},
        },
    }


def test_a_rule_command_round_trips_through_the_writer_contract() -> None:
    """The command a rule builds is what the writer parses back from the record value."""
    out = apply_rule(
        rule_named("conversation-closed"),
        factories.notification("conversation.admin.closed", CLOSED_ITEM),
    )
    assert out is not None
    assert parse_command(command_bytes(out.command)) == out.command


def test_metadata_falls_back_to_the_next_path() -> None:
    """Without conversation parts the admin id comes from the assignee."""
    item = factories.conversation_item(admin_assignee_id=991267)
    n = factories.notification("conversation.admin.closed", item)
    out = apply_rule(rule_named("conversation-closed"), n)
    assert out is not None
    assert out.command.event.metadata == {
        "conversation_id": factories.CONVERSATION_ID,
        "admin_id": "991267",
    }


def test_metadata_without_a_value_is_left_out() -> None:
    """A metadata key none of whose paths has a value is omitted, not sent as null."""
    n = factories.notification("conversation.admin.closed", factories.conversation_item())
    out = apply_rule(rule_named("conversation-closed"), n)
    assert out is not None
    assert out.command.event.metadata == {"conversation_id": factories.CONVERSATION_ID}


def test_the_command_is_deterministic() -> None:
    """The same notification gives the same command, id and issue time included."""
    rule = rule_named("conversation-closed")
    first = apply_rule(rule, factories.notification("conversation.admin.closed", CLOSED_ITEM))
    again = apply_rule(rule, factories.notification("conversation.admin.closed", CLOSED_ITEM))
    assert first is not None
    assert again is not None
    assert first.command.command_id == command_id(factories.NOTIFICATION_ID, rule.name)
    assert command_bytes(first.command) == command_bytes(again.command)


def test_another_notification_or_rule_gives_another_command_id() -> None:
    """The command id depends on both the notification id and the rule name."""
    n = factories.notification("conversation.admin.closed", CLOSED_ITEM)
    other_n = factories.notification("conversation.admin.closed", CLOSED_ITEM, "notif_0002")
    closed = apply_rule(rule_named("conversation-closed"), n)
    other_notification = apply_rule(rule_named("conversation-closed"), other_n)
    other_rule = apply_rule(rule_named("conversation-started"), n)
    assert closed is not None
    assert other_notification is not None
    assert other_rule is not None
    ids = {
        closed.command.command_id,
        other_notification.command.command_id,
        other_rule.command.command_id,
    }
    assert len(ids) == 3


def test_no_contact_gives_no_command() -> None:
    """A conversation without contacts has no one to send the event to."""
    item = factories.conversation_item(contacts={"type": "contact.list", "contacts": []})
    n = factories.notification("conversation.admin.closed", item)
    assert apply_rule(rule_named("conversation-closed"), n) is None


def test_a_notification_without_an_id_gives_no_command() -> None:
    """Without a notification id there is no deterministic command id, so no command."""
    n = factories.notification("conversation.admin.closed", CLOSED_ITEM, notification_id=None)
    assert apply_rule(rule_named("conversation-closed"), n) is None


def test_the_tag_rule_sends_the_tag_name() -> None:
    """contact.user.tag.created becomes `tagged` with the tag name, for the tagged contact."""
    n = factories.notification("contact.user.tag.created", factories.contact_tag_item(tag="vip"))
    out = apply_rule(rule_named("contact-tagged"), n)
    assert out is not None
    assert out.command.contact_key() == f"id:{factories.CONTACT_ID}"
    assert out.command.event.event_name == "tagged"
    assert out.command.event.identifier() == ("id", factories.CONTACT_ID)
    assert out.command.event.metadata == {"tag": "vip"}


def test_metadata_that_intercom_cannot_take_raises_validation_error(tmp_path: Path) -> None:
    """A metadata path leading to a nested object makes an invalid command: ValidationError."""
    path = write_rules(
        tmp_path,
        RULE.format(name="nested").replace('["ping"]', '["contact.*"]')
        + 'metadata = { attributes = "data.item.custom_attributes" }\n',
    )
    n = factories.notification("contact.user.created", factories.contact_item())
    with pytest.raises(ValidationError, match="metadata"):
        apply_rule(load_rules(path).rules[0], n)


def test_a_custom_rule_file_is_loaded_from_its_path(tmp_path: Path) -> None:
    """A rule file of one's own replaces the shipped rules; the first identifier found wins."""
    path = write_rules(
        tmp_path,
        """
[[rules]]
name = "user-created"
topics = ["contact.user.*"]
event_name = "created-user"
identify = [
  { field = "user_id", path = "data.item.nothing" },
  { field = "email", path = "data.item.email" },
  { field = "id", path = "data.item.id" },
]
metadata = { plan = "data.item.custom_attributes.plan" }
""",
    )
    rules = load_rules(path)
    assert [rule.name for rule in rules.matching("contact.user.created")] == ["user-created"]
    n = factories.notification("contact.user.created", factories.contact_item())
    out = apply_rule(rules.rules[0], n)
    assert out is not None
    assert out.command.contact_key() == "email:ada@example.com"
    assert out.command.event.id is None
    assert out.command.event.metadata == {"plan": "pro"}
    assert load_rules(str(path)) == rules


RULE = """
[[rules]]
name = "{name}"
topics = ["ping"]
event_name = "pinged"
identify = [{{ field = "id", path = "data.item.id" }}]
"""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[[rules]\nname = ", id="bad-toml"),
        pytest.param(RULE.format(name="a") + 'colour = "red"\n', id="unknown-rule-key"),
        pytest.param("version = 2\n" + RULE.format(name="a"), id="unknown-top-level-key"),
        pytest.param(
            RULE.format(name="a").replace('field = "id"', 'field = "phone"'),
            id="unknown-identifier",
        ),
        pytest.param(RULE.format(name="a") + RULE.format(name="a"), id="duplicate-name"),
        pytest.param(
            RULE.format(name="a")
            + "metadata = { "
            + ", ".join(f'k{i} = "data.item.id"' for i in range(11))
            + " }\n",
            id="eleven-metadata-keys",
        ),
        pytest.param(RULE.format(name="a").replace('["ping"]', "[]"), id="no-topics"),
        pytest.param("", id="no-rules"),
    ],
)
def test_an_invalid_rule_file_raises_configuration_error(tmp_path: Path, text: str) -> None:
    """A rule file that cannot work is refused at start-up with ConfigurationError."""
    with pytest.raises(ConfigurationError, match="rule file"):
        load_rules(write_rules(tmp_path, text))


def test_ten_metadata_keys_are_allowed(tmp_path: Path) -> None:
    """Intercom's limit of ten metadata keys is reachable."""
    metadata = ", ".join(f'k{i} = "data.item.id"' for i in range(10))
    rules = load_rules(
        write_rules(tmp_path, RULE.format(name="a") + f"metadata = {{ {metadata} }}\n")
    )
    assert len(rules.rules[0].metadata) == 10


def test_a_missing_rule_file_raises_configuration_error(tmp_path: Path) -> None:
    """A path to no file is a configuration error, not an OSError."""
    with pytest.raises(ConfigurationError, match=r"missing\.toml"):
        load_rules(tmp_path / "missing.toml")
