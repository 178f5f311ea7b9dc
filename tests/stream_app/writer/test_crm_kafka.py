"""CRM sync end to end: 1,000 CRM contacts, half known from webhooks, then a replay."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import orjson
import pytest

from dev.fakes.intercom import FakeIntercom
from dev.support.processes import Process
from intercom_stream.settings import Settings
from tests.stream_app.writer.test_cache_kafka import cache_entries
from tests.stream_app.writer.test_kinds_kafka import duplicates_skipped
from tests.stream_app.writer.test_writer_kafka import until
from tests.support.kafka import produce

pytestmark = pytest.mark.integration

CONTACTS, KNOWN, COMPANIES, EVERY = 1000, 500, 5, 20  # every 20th contact names a company
UPDATED_AT = 1_763_700_000
Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def crm_contact(n: int) -> dict[str, Any]:
    """Return CRM contact n (a company for every 20th)."""
    company = f"co-{n % COMPANIES}" if n % EVERY == 0 else None
    return {
        "id": f"crm-{n}",
        "email": f"p{n}@example.com",
        "name": f"Person {n}",
        "plan": "pro" if n % 2 else "free",
        "company": company,
        "updated_at": UPDATED_AT,
    }


def known_webhook(contact: dict[str, Any]) -> Record:
    """Return the notification Intercom sends when a contact is created (key: its id)."""
    item = {"type": "contact", "role": "user", **contact, "updated_at": UPDATED_AT - 100}
    body: dict[str, Any] = {"type": "notification_event", "topic": "contact.user.created"}
    body["id"] = f"n-{item['id']}"
    body |= {"app_id": "app", "created_at": UPDATED_AT - 100}
    body["data"] = {"type": "notification_event_data", "item": item}
    return item["id"].encode(), orjson.dumps(body), []


def record(value: dict[str, Any]) -> Record:
    """Return a CRM record keyed by its id."""
    return value["id"].encode(), orjson.dumps(value), []


async def seed_known(fake: FakeIntercom, settings: Settings, worker: Process) -> None:
    """Create half the contacts in the fake (stale fields) and tell the writer by webhooks."""
    hooks = []
    for n in range(KNOWN):
        _, contact = fake.resources.state.create({"external_id": f"crm-{n}", "name": "Stale"})
        hooks.append(known_webhook(contact))
    await produce(settings.kafka_bootstrap_servers, settings.topic_notifications, hooks)

    async def cached() -> bool:
        return await cache_entries(settings.writer_web_port) >= 2 * KNOWN  # entry and link

    await until(cached, 60, worker.log_tail)


def check_contacts(fake: FakeIntercom) -> None:
    """Every CRM contact exists once, with its fields, attributes and company."""
    state = fake.resources.state
    by_external = {c["external_id"]: c for c in state.contacts.values()}
    assert len(state.contacts) == len(by_external) == CONTACTS
    company_ids = {c["company_id"]: c["id"] for c in state.companies.values()}
    for n in range(CONTACTS):
        crm, contact = crm_contact(n), by_external[f"crm-{n}"]
        assert (contact["email"], contact["name"]) == (crm["email"], crm["name"])
        attributes = {"plan": crm["plan"], "company_name": crm["company"]}
        assert contact["custom_attributes"] == attributes | {"last_synced_at": UPDATED_AT}
        assert contact["company_ids"] == ([company_ids[crm["company"]]] if crm["company"] else [])


async def test_crm_sync_of_1000_contacts_half_known_then_a_replay_sends_nothing(
    worker: Process, writer_settings: Settings, fake: FakeIntercom
) -> None:
    """Each contact once with the right attributes, at most 1,100 calls; a replay adds none.

    The replay publishes every CRM record again (what resetting the CRM agents' offsets
    would feed them), after ten records older than those synced, which are skipped.
    """
    servers = writer_settings.kafka_bootstrap_servers
    await seed_known(fake, writer_settings, worker)
    companies = [
        {"id": f"co-{n}", "name": f"Co {n}", "updated_at": UPDATED_AT} for n in range(COMPANIES)
    ]
    await produce(servers, writer_settings.topic_crm_companies, [record(c) for c in companies])

    async def upserted() -> bool:
        return len(fake.resources.state.companies) == COMPANIES

    await until(upserted, 60, worker.log_tail)
    contacts = [record(crm_contact(n)) for n in range(CONTACTS)]
    await produce(servers, writer_settings.topic_crm_contacts, contacts)
    attaches = CONTACTS // EVERY

    async def synced() -> bool:
        done = sum(1 for c in fake.resources.state.contacts.values() if c.get("custom_attributes"))
        attached = sum(len(c["company_ids"]) for c in fake.resources.state.contacts.values())
        return done == CONTACTS and attached == attaches

    await until(synced, 120, lambda: f"{len(fake.calls)} calls\n{worker.log_tail()}")
    check_contacts(fake)
    calls = len(fake.calls)
    kinds = Counter(
        re.sub(r"/[0-9a-f]{24}", "/{id}", f"{r.method} {r.path}") for r in fake.resources.requests
    )
    print(f"\nCRM sync of {CONTACTS} contacts ({KNOWN} known): {calls} calls {dict(kinds)}")
    assert calls <= 1100
    await produce(servers, writer_settings.topic_crm_companies, [record(c) for c in companies])
    older = [
        record(crm_contact(n) | {"updated_at": UPDATED_AT - 1, "name": "Old"}) for n in range(10)
    ]
    await produce(servers, writer_settings.topic_crm_contacts, older + contacts)
    await duplicates_skipped(worker, COMPANIES + CONTACTS + attaches)
    assert worker.log_path.read_text().count('"crm.older_skipped"') == len(older)
    assert len(fake.calls) == calls
    check_contacts(fake)
