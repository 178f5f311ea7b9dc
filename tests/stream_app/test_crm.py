"""CRM records become writer commands; older records are skipped, bad ones dead-lettered."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas import DeadLetter
from schemas.commands import AttachContactToCompany, command_bytes, parse_command
from stream_app.crm import BadRecordError, CrmSync, translate
from stream_app.source import Source

CONTACT = {"id": "crm-1", "email": "ada@example.com", "name": "Ada", "plan": "pro"}


def record(topic: str, key: str | None, **value: Any) -> Source:
    """Return a consumed CRM record."""
    raw = orjson.dumps(value)
    return Source(f"t.{topic}", 0, 1, key.encode() if key else None, raw, (), 1)


def contact(**fields: Any) -> Source:
    """Return a crm.contacts record keyed by its id."""
    value = {**CONTACT, "company": None, "updated_at": 1_700_000_000, **fields}
    return record("crm.contacts", value["id"], **value)


def test_a_contact_becomes_find_or_create_and_a_company_attach() -> None:
    """external_id = id; plan, company_name, last_synced_at = updated_at; attach by company."""
    find, attach = translate(contact(company="acme"), {}) or []
    assert parse_command(command_bytes(find)) == find
    assert find.model_dump(mode="json", exclude_none=True) == {
        "kind": "contact.find_or_create",
        "command_id": "crm:contact:crm-1:1700000000",
        "source": "crm-sync",
        "issued_at_ms": 1_700_000_000_000,
        "force": False,
        "contact": {
            "external_id": "crm-1",
            "email": "ada@example.com",
            "name": "Ada",
            "role": "user",
            "custom_attributes": {
                "plan": "pro",
                "company_name": "acme",
                "last_synced_at": 1_700_000_000,
            },
        },
    }
    assert isinstance(attach, AttachContactToCompany)
    assert (attach.kind, attach.key(), attach.company_id) == (
        "company.attach_contact",
        "external_id:crm-1",
        "acme",
    )


def test_a_contact_without_company_is_one_command() -> None:
    """No company, no attach."""
    assert [c.kind for c in translate(contact(), {}) or []] == ["contact.find_or_create"]


def test_a_company_becomes_an_upsert_with_integer_spend() -> None:
    """company_id = id; a fractional monthly_spend is truncated as Intercom does."""
    value = {"id": "acme", "name": "Acme", "plan": "gold", "monthly_spend": 99.9, "updated_at": 5}
    [upsert] = translate(record("crm.companies", "acme", **value), {}) or []
    assert upsert.model_dump(mode="json", exclude_none=True)["company"] == {
        "company_id": "acme",
        "name": "Acme",
        "plan": "gold",
        "monthly_spend": 99,
    }
    assert upsert.command_id == "crm:company:acme:5"


def test_an_older_record_is_skipped_and_an_equal_one_repeats_its_commands() -> None:
    """The synced table keeps the newest updated_at per id; a replay yields the same ids."""
    synced: dict[str, Any] = {}
    first = translate(contact(updated_at=10), synced)
    assert translate(contact(updated_at=9), synced) is None
    assert translate(contact(updated_at=10), synced) == first
    assert synced == {"contact:crm-1": 10}
    assert translate(contact(updated_at=11), synced) is not None


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (contact(updated_at=None), "updated_at"),
        (contact(surprise=1), "surprise"),
        (contact(email="not-an-email"), "invalid command"),
        (record("crm.contacts", "other", **CONTACT, updated_at=1), "is not its id"),
        (
            record("crm.companies", "acme", id="acme", monthly_spend=-1, updated_at=1),
            "monthly_spend",
        ),
        (record("crm.contacts", "x", id="x", updated_at=1_700_000_000_000), "updated_at"),
    ],
)
def test_bad_records_are_refused_with_the_reason(source: Source, reason: str) -> None:
    """Each rule refuses with a message naming the problem."""
    with pytest.raises(BadRecordError, match=reason):
        translate(source, {})


async def test_the_sync_publishes_commands_and_dead_letters_bad_records() -> None:
    """Commands go out keyed by contact; a bad record becomes a dead letter, nothing else."""
    sent: list[tuple[bytes, bytes]] = []
    letters: list[DeadLetter] = []

    async def publish(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        sent.append((key, value))

    async def dead(key: bytes | None, value: bytes, headers: Any = ()) -> None:
        letters.append(DeadLetter.model_validate_json(value))

    sync = CrmSync({}, publish, dead, clock=lambda: 1.0)
    await sync.handle(contact(company="acme"))
    await sync.handle(contact(surprise=True))
    assert [key for key, _ in sent] == [b"external_id:crm-1", b"external_id:crm-1"]
    [letter] = letters
    assert (letter.stage, letter.source_topic) == ("validate", "t.crm.contacts")
    assert "surprise" in letter.reason
