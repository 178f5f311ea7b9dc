"""A recipe: the calls one command becomes, and how each answer feeds the next.

A recipe is a tuple of steps. Each step builds its call from the plan (or returns None when
nothing needs calling: the value is known, cached or not needed), takes what it needs from
the answer into `plan.values`, and may recover from an Intercom error (a 409 that names the
existing contact, a 404 on a stale cached id) instead of failing the command. The executor
runs the steps in order and records progress, so a retried command resumes after its last
finished step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from schemas.commands import CommandBase
from stream_app.writer.cache import Caches
from stream_app.writer.errors import IntercomResponseError, WriterError

Call = tuple[str, str, dict[str, Any]]  # method, path, JSON body
C = TypeVar("C", bound=CommandBase)


class UnresolvedError(WriterError):
    """An id the command needs does not exist in Intercom (e.g. no contact has the external id)."""

    command_fault = True


@dataclass
class Plan(Generic[C]):
    """A command on its way: the caches it may read, what its steps learnt, where to go next."""

    command: C
    caches: Caches = field(default_factory=Caches)
    values: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    jump: str | None = None

    def value(self, name: str) -> str:
        """Return a value an earlier step must have set."""
        found = self.values.get(name)
        if found is None:
            raise AssertionError(f"step order: {name} is not known yet")
        return str(found)


def keep_nothing(plan: Plan[Any], body: dict[str, Any]) -> None:
    """Ignore the answer."""


def never(plan: Plan[Any], error: IntercomResponseError) -> bool:
    """Recover from nothing."""
    return False


@dataclass(frozen=True)
class Step(Generic[C]):
    """One call of a recipe (or a local decision when `request` returns None)."""

    name: str
    request: Callable[[Plan[C]], Call | None]
    take: Callable[[Plan[C], dict[str, Any]], None] = keep_nothing
    recover: Callable[[Plan[C], IntercomResponseError], bool] = never
    idempotent: bool = True  # False: Intercom would act twice on a repeat (see writer.md)


Recipe = tuple[Step[C], ...]


def single(name: str, build: Callable[[Plan[C]], Call], idempotent: bool = True) -> Recipe[C]:
    """Return a recipe of one call."""
    return (Step(name, build, idempotent=idempotent),)
