"""Contracts of every message on every topic: pydantic models, no I/O."""

from schemas.dead_letter import DeadLetter, RecordHeader
from schemas.items import Item
from schemas.notification import Notification, NotificationData

__all__ = ["DeadLetter", "Item", "Notification", "NotificationData", "RecordHeader"]
