"""Fields and rules every command shares: identity, provenance, force, and contact references."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

MAX_UNIX_SECONDS = 9_999_999_999  # anything larger is milliseconds sent by mistake
FORCE_HEADER = "command-force"
COMMAND_ID_RECORD_HEADER = "command-id"  # on the Kafka record
COMMAND_KIND_HEADER = "command-kind"

UnixSeconds = Annotated[StrictInt, Field(gt=0, le=MAX_UNIX_SECONDS)]
Text = Annotated[StrictStr, Field(min_length=1)]
IntercomId = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
AttributeValue = StrictStr | StrictInt | float | bool | None
CustomAttributes = dict[Annotated[StrictStr, Field(min_length=1)], AttributeValue]


class Strict(BaseModel):
    """A frozen model that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandBase(Strict):
    """Fields every command carries."""

    command_id: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    source: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    issued_at_ms: Annotated[StrictInt, Field(gt=0)]
    force: bool = False

    def key(self) -> str:
        """Return the Kafka key that orders this command with the others of its subject."""
        raise NotImplementedError

    def contact_key(self) -> str:
        """Return the Kafka key (the name kept from when every command was about a contact)."""
        return self.key()

    def style_warnings(self) -> list[str]:
        """Return advice about the command that does not invalidate it."""
        return []


class ContactReference(CommandBase):
    """A command naming an existing contact by exactly one of `contact_id` and `external_id`."""

    contact_id: IntercomId | None = None
    external_id: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_reference(cls, data: Any) -> Any:
        """Require exactly one of contact_id and external_id."""
        if isinstance(data, dict):
            given = [n for n in ("contact_id", "external_id") if data.get(n) is not None]
            if len(given) != 1:
                raise ValueError(
                    f"exactly one of contact_id, external_id is required, got {given or 'none'}"
                )
        return data

    def key(self) -> str:
        """Return the contact key: `id:<contact_id>` or `external_id:<external_id>`."""
        if self.contact_id is not None:
            return f"id:{self.contact_id}"
        return f"external_id:{self.external_id}"
