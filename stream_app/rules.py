"""Declarative rules that turn notifications into Intercom data-event commands."""

from __future__ import annotations

import fnmatch
import functools
import tomllib
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from intercom_stream.errors import ConfigurationError
from schemas import Notification
from schemas.commands import CreateDataEvent, DataEvent
from stream_app.ids import Uuid5
from stream_app.outputs import SendCommand

DEFAULT_RULES = Path(__file__).with_name("rules.toml")
COMMAND_NAMESPACE = uuid.UUID("6b1f6c1e-3c5e-4d0a-9a57-0f1c2b6f0e11")
COMMAND_IDS = Uuid5(COMMAND_NAMESPACE)


class Identify(BaseModel):
    """Where to find the contact: the identifier field and the path of its value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: Literal["user_id", "id", "email"]
    path: str


class Rule(BaseModel):
    """On these topics, send this data event to the contact found by `identify`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    topics: list[str] = Field(min_length=1)
    event_name: str = Field(min_length=1)
    identify: list[Identify] = Field(min_length=1)
    metadata: dict[str, str | list[str]] = Field(default_factory=dict, max_length=10)

    def matches(self, topic: str) -> bool:
        """Whether the rule applies to this (canonical) topic."""
        return any(fnmatch.fnmatchcase(topic, pattern) for pattern in self.topics)


class RuleSet(BaseModel):
    """The rule table, as loaded from TOML (`[[rules]]` entries)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[Rule]

    def matching(self, topic: str) -> list[Rule]:
        """Return the rules that apply to the topic."""
        return [rule for rule in self.rules if rule.matches(topic)]


def load_rules(path: str | Path = "") -> RuleSet:
    """Load and validate a rule file (the shipped defaults when no path is given)."""
    source = Path(path) if path else DEFAULT_RULES
    try:
        rules = RuleSet.model_validate(tomllib.loads(source.read_text()))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"rule file {source} is invalid: {exc}") from exc
    names = [rule.name for rule in rules.rules]
    if len(names) != len(set(names)):
        raise ConfigurationError(f"rule file {source} repeats a rule name")
    return rules


@functools.lru_cache(maxsize=1024)
def path_steps(path: str) -> tuple[tuple[str, int | None], ...]:
    """Return a dotted path's parts, each with its list index if it reads as one, parsed once."""
    return tuple(
        (part, int(part) if part.lstrip("-").isdigit() else None) for part in path.split(".")
    )


def resolve(value: Any, path: str) -> Any:
    """Follow a dotted path through models, dicts and lists (`-1` is the last element)."""
    for part, index in path_steps(path):
        if isinstance(value, list):
            value = (
                value[index] if index is not None and -len(value) <= index < len(value) else None
            )
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
        if value is None:
            return None
    return value


def first_value(source: Any, paths: str | list[str]) -> Any:
    """Return the first non-empty value among the paths."""
    for path in [paths] if isinstance(paths, str) else paths:
        value = resolve(source, path)
        if value not in (None, ""):
            return value
    return None


def command_id(notification_id: str, rule_name: str) -> str:
    """Return the deterministic command id of a rule applied to a notification."""
    return COMMAND_IDS.text(f"{notification_id}/{rule_name}")


def apply_rule(rule: Rule, notification: Notification) -> SendCommand | None:
    """Return the rule's command, or None when no contact is found; ValidationError if invalid.

    The command is a pure function of the notification and the rule (its id and its
    `issued_at_ms` too), so a redelivered notification produces an identical command.
    """
    ident = next(
        ((i.field, v) for i in rule.identify if (v := first_value(notification, i.path))), None
    )
    if ident is None or notification.id is None:
        return None
    metadata = {
        key: value
        for key, paths in rule.metadata.items()
        if (value := first_value(notification, paths)) is not None
    }
    event = DataEvent.model_validate(
        {
            "event_name": rule.event_name,
            "created_at": notification.created_at,
            ident[0]: str(ident[1]),
            "metadata": metadata,
        }
    )
    command = CreateDataEvent(
        command_id=command_id(notification.id, rule.name),
        source=f"rule:{rule.name}",
        issued_at_ms=notification.created_at * 1000,
        event=event,
    )
    return SendCommand(command)
