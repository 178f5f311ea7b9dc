"""Exports the JSON Schemas of the topic contracts, one file per model, for other services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.commands import COMMAND_ADAPTER
from schemas.crm import CrmCompany, CrmContact
from schemas.dead_letter import DeadLetter
from schemas.events import ContactEvent, ConversationEvent
from schemas.notification import Notification
from schemas.projections import ContactState, ConversationState


def json_schemas() -> dict[str, dict[str, Any]]:
    """Return each exported schema by file name."""
    return {
        "command.schema.json": COMMAND_ADAPTER.json_schema(),
        "dead-letter.schema.json": DeadLetter.model_json_schema(),
        "notification.schema.json": Notification.model_json_schema(),
        "event-conversation.schema.json": ConversationEvent.model_json_schema(),
        "event-contact.schema.json": ContactEvent.model_json_schema(),
        "projection-conversation.schema.json": ConversationState.model_json_schema(),
        "projection-contact.schema.json": ContactState.model_json_schema(),
        "crm-contact.schema.json": CrmContact.model_json_schema(),
        "crm-company.schema.json": CrmCompany.model_json_schema(),
    }


def write_json_schemas(directory: Path) -> list[Path]:
    """Write every schema into the directory (created if missing) and return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
