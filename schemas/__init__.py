"""Contracts of every message on every topic: pydantic models, no I/O."""

from schemas.dead_letter import DeadLetter, RecordHeader
from schemas.notification import Item, Notification, NotificationData

__all__ = ["DeadLetter", "Item", "Notification", "NotificationData", "RecordHeader"]
