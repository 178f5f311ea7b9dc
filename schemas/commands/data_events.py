"""The data-event command: `data_event.create`, one `POST /events` that Intercom deduplicates."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from schemas.commands.base import MAX_UNIX_SECONDS, CommandBase, UnixSeconds

MAX_METADATA_KEYS = 10
IRREGULAR_PAST_WORDS = (
    "bought brought built caught chose did drew drove found forgot gave got had heard held kept "
    "knew left lost made met paid put quit read ran said saw sent set shared shut sold spent "
    "stood took told thought understood won wrote"
)
IRREGULAR_PAST = frozenset(IRREGULAR_PAST_WORDS.split())
VERB_NOUN = re.compile(r"^(?P<verb>[a-z]+)[-_ ][a-z0-9][a-z0-9 _-]*$")


class RichLink(BaseModel):
    """A metadata link with display text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[StrictStr, Field(min_length=1)]
    value: StrictStr


class MonetaryAmount(BaseModel):
    """A metadata amount in the currency's minor unit (cents)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: StrictInt
    currency: Annotated[StrictStr, Field(pattern=r"^[A-Za-z]{3}$")]


MetadataValue = StrictStr | StrictInt | StrictFloat | RichLink | MonetaryAmount


class DataEvent(BaseModel):
    """The body of `POST /events`, exactly as Intercom receives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_name: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    created_at: UnixSeconds
    user_id: Annotated[StrictStr, Field(min_length=1)] | None = None
    id: Annotated[StrictStr, Field(min_length=1)] | None = None
    email: Annotated[StrictStr, Field(min_length=1)] | None = None
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    @field_validator("event_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """Reject names made of whitespace only."""
        if not value.strip():
            raise ValueError("event_name must not be blank")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_rules(cls, value: dict[str, MetadataValue]) -> dict[str, MetadataValue]:
        """Enforce Intercom's key limit and the timestamp type of `*_date` keys."""
        if len(value) > MAX_METADATA_KEYS:
            raise ValueError(f"at most {MAX_METADATA_KEYS} metadata keys, got {len(value)}")
        for key, item in value.items():
            if not key.strip():
                raise ValueError("metadata keys must not be blank")
            if key.endswith("_date") and not (
                isinstance(item, int) and 0 < item <= MAX_UNIX_SECONDS
            ):
                raise ValueError(f"metadata key {key!r} must be a unix timestamp in seconds")
        return value

    @model_validator(mode="after")
    def _one_identifier(self) -> DataEvent:
        """Require exactly one of user_id, id and email."""
        given = [name for name in ("user_id", "id", "email") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"exactly one of user_id, id, email is required, got {given or 'none'}"
            )
        return self

    def identifier(self) -> tuple[str, str]:
        """Return the (field, value) naming the contact."""
        for name in ("user_id", "id", "email"):
            value = getattr(self, name)
            if value is not None:
                return name, value
        raise AssertionError("validated events always carry one identifier")

    def style_warnings(self) -> list[str]:
        """Return advice that does not invalidate the event (Intercom's naming convention)."""
        match = VERB_NOUN.match(self.event_name)
        verb = match.group("verb") if match else ""
        if verb.endswith("ed") or verb in IRREGULAR_PAST:
            return []
        return [f"event_name {self.event_name!r} is not a past-tense verb-noun like placed-order"]


class CreateDataEvent(CommandBase):
    """Submit a data event for a contact (`POST /events`)."""

    kind: Literal["data_event.create"] = "data_event.create"
    event: DataEvent

    def key(self) -> str:
        """Return the contact key `field:value`; `user_id` is keyed as `external_id`."""
        name, value = self.event.identifier()
        return f"{'external_id' if name == 'user_id' else name}:{value}"

    def request(self) -> tuple[str, str, dict[str, Any]]:
        """Return the HTTP method, path and JSON body of the Intercom call."""
        return "POST", "/events", self.event.model_dump(mode="json", exclude_none=True)

    def style_warnings(self) -> list[str]:
        """Return advice about the command that does not invalidate it."""
        return self.event.style_warnings()
