"""CRM sync: `crm.contacts` and `crm.companies` records become writer commands.

Translation is plain functions (`contact_commands`, `company_commands`); the faust agent
(`register_crm`) only reads records, skips those older than the last synced `updated_at`
of their id, publishes the commands and dead-letters bad records with the reason. Command
ids derive from the CRM id and `updated_at`, and `last_synced_at` is that `updated_at`, so a
replay produces the very same commands, which the writer's ledger does not send again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import faust
import structlog
from pydantic import ValidationError

from intercom_stream.settings import Settings
from schemas.commands import (
    AnyCommand,
    AttachContactToCompany,
    Company,
    FindOrCreateContact,
    NewContact,
    UpsertCompany,
    command_record,
)
from schemas.crm import CrmCompany, CrmContact
from stream_app.dead_letters import DeadLetterSend, dead_letter, stop_consuming, write_dead_letter
from stream_app.faust.declare import ledger_table, raw_topic
from stream_app.faust.produce import dead_letter_sender, publisher
from stream_app.ports import Publish
from stream_app.source import Source

log = structlog.get_logger("stream_app.crm")
SOURCE = "crm-sync"


class BadRecordError(ValueError):
    """A CRM record that cannot be synced (invalid, or keyed by another id than its own)."""


def contact_commands(record: CrmContact) -> list[AnyCommand]:
    """Return find-or-create of the contact, and the company attach when it has a company."""
    command_id = f"crm:contact:{record.id}:{record.updated_at}"
    attributes: dict[str, str | int | None] = {"plan": record.plan}
    attributes.update(company_name=record.company, last_synced_at=record.updated_at)
    contact = NewContact(
        external_id=record.id, email=record.email, name=record.name, custom_attributes=attributes
    )
    common: dict[str, Any] = {"source": SOURCE, "issued_at_ms": record.updated_at * 1000}
    commands: list[AnyCommand] = [
        FindOrCreateContact(command_id=command_id, contact=contact, **common)
    ]
    if record.company:
        attach_id = f"{command_id}:company:{record.company}"
        commands.append(
            AttachContactToCompany(
                command_id=attach_id, external_id=record.id, company_id=record.company, **common
            )
        )
    return commands


def company_commands(record: CrmCompany) -> list[AnyCommand]:
    """Return the upsert of the company (monthly_spend truncated to an integer, as Intercom)."""
    spend = None if record.monthly_spend is None else int(record.monthly_spend)
    company = Company(company_id=record.id, name=record.name, plan=record.plan, monthly_spend=spend)
    command_id = f"crm:company:{record.id}:{record.updated_at}"
    return [
        UpsertCompany(
            command_id=command_id,
            source=SOURCE,
            issued_at_ms=record.updated_at * 1000,
            company=company,
        )
    ]


def parse_record(
    kind: type[CrmContact] | type[CrmCompany], source: Source
) -> CrmContact | CrmCompany:
    """Validate a record and its key; raise BadRecordError with the reason."""
    try:
        record = kind.model_validate_json(source.value)
    except ValidationError as exc:
        raise BadRecordError(f"invalid {kind.__name__}: {exc}") from exc
    if source.key is not None and source.key.decode(errors="replace") != record.id:
        raise BadRecordError(f"record key {source.key!r} is not its id {record.id!r}")
    return record


def translate(source: Source, synced: MutableMapping[str, Any]) -> list[AnyCommand] | None:
    """Return the commands of a record, or None when an equal-or-newer one was synced."""
    contact = source.topic.endswith("contacts")
    record = parse_record(CrmContact if contact else CrmCompany, source)
    key = f"{'contact' if contact else 'company'}:{record.id}"
    last = synced.get(key)
    if isinstance(last, int) and record.updated_at < last:
        return None
    try:
        commands = (
            contact_commands(record) if isinstance(record, CrmContact) else company_commands(record)
        )
    except ValidationError as exc:
        raise BadRecordError(f"record makes an invalid command: {exc}") from exc
    synced[key] = record.updated_at
    return commands


@dataclass
class CrmSync:
    """Handles one CRM record: publish its commands, skip it, or dead-letter it."""

    synced: MutableMapping[str, Any]
    publish: Publish
    send_dead_letter: DeadLetterSend
    clock: Callable[[], float] = time.time

    async def handle(self, source: Source) -> None:
        """Translate the record and publish its commands (never raising for a bad record)."""
        try:
            commands = translate(source, self.synced)
        except BadRecordError as exc:
            letter = dead_letter(source, "validate", str(exc), exc, 0, int(self.clock() * 1000))
            await write_dead_letter(self.send_dead_letter, letter)
            log.warning("crm.dead_lettered", topic=source.topic, offset=source.offset)
            return
        if commands is None:
            log.info("crm.older_skipped", topic=source.topic, key=source.key)
            return
        for command in commands:
            await self.publish(*command_record(command))


def register_crm(app: faust.App, settings: Settings) -> None:
    """Register the agents of `crm.contacts` and `crm.companies` and their synced table."""
    parts = settings.topic_partitions
    synced = ledger_table(app, "crm-synced", parts, "Last updated_at synced per CRM id.")
    sync = CrmSync(
        synced,
        publisher(app, settings.topic_commands),
        dead_letter_sender(app, settings.topic_dead_letter),
    )
    for name, topic in (
        ("crm-contacts", settings.topic_crm_contacts),
        ("crm-companies", settings.topic_crm_companies),
    ):
        app.agent(raw_topic(app, topic, parts), name=name)(consume(sync))


def consume(sync: CrmSync) -> Callable[[Any], Awaitable[None]]:
    """Return an agent body feeding each record to the sync (stopping on anything unforeseen)."""

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            try:
                await sync.handle(Source.from_message(event.message))
            except Exception as exc:  # noqa: BLE001 - escaping, faust would ack and commit it
                stop_consuming(exc)

    return agent
