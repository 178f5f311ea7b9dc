"""Contracts of every message on every topic: pydantic models, no I/O."""

from schemas.commands import CreateDataEvent, command_record, parse_command
from schemas.dead_letter import DeadLetter, RecordHeader
from schemas.items import Item
from schemas.notification import Notification, NotificationData

__all__ = [
    "CreateDataEvent",
    "DeadLetter",
    "Item",
    "Notification",
    "NotificationData",
    "RecordHeader",
    "command_record",
    "parse_command",
]
