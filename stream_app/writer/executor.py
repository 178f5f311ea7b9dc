"""Runs a command's recipe through the one Sender, recording progress between its calls.

Progress (`{"done": [...], "values": {...}, "intent": step}`) is kept by command id in a
table of the writer's app, so a command retried after a crash or a rebalance resumes after
its last finished step instead of repeating it. Before a call Intercom would not deduplicate
(a reply, a note, a close, a merge, an article create) the step is marked as intended, and
the mark is made durable (the changelog acknowledged) before the call goes out; a
retry that finds the mark without the step done does not call again, it dead-letters the
command as uncertain (an operator checks Intercom and resends it with `force`).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol, runtime_checkable

import structlog

from intercom_stream.errors import AttemptsExhaustedError
from schemas.commands import AnyCommand
from stream_app.writer.cache import Caches
from stream_app.writer.errors import IntercomResponseError, WriterError
from stream_app.writer.recipes import Plan, Recipe, Step, UnresolvedError, recipe_for
from stream_app.writer.sender import Request, Sender

log = structlog.get_logger("stream_app.writer.executor")


@runtime_checkable
class Durable(Protocol):
    """A progress store whose writes can be made durable on demand (sent and acknowledged)."""

    async def persist(self) -> None:
        """Return once every write so far is durable."""


class UncertainError(WriterError):
    """A call Intercom would not deduplicate may already have been made by an earlier attempt."""

    command_fault = True


class Executor:
    """Executes recipes: one Sender call per step, progress recorded between steps."""

    def __init__(self, sender: Sender, caches: Caches, progress: MutableMapping[str, Any]) -> None:
        """Keep the sender, the caches the recipes read, and the progress table."""
        self._sender = sender
        self._caches = caches
        self._progress = progress

    async def run(self, command: AnyCommand, force: bool = False) -> int:
        """Make the command's calls and return their attempts; raise AttemptsExhaustedError."""
        plan = self._resume(command, force)
        steps = recipe_for(command)
        attempts = index = 0
        while index < len(steps):
            if steps[index].name not in plan.done:
                attempts += await self._step(plan, steps[index], last=index == len(steps) - 1)
            index = self._next(steps, plan, index)
        if command.command_id in self._progress:
            del self._progress[command.command_id]
        return attempts

    def _resume(self, command: AnyCommand, force: bool) -> Plan[Any]:
        """Return the plan where an earlier attempt left it (afresh when forced)."""
        saved = None if force else self._progress.get(command.command_id)
        if not isinstance(saved, dict):
            return Plan(command, self._caches)
        values, done = dict(saved.get("values") or {}), list(saved.get("done") or [])
        plan = Plan(command, self._caches, values, done)
        intent = saved.get("intent")
        if intent and intent not in plan.done:
            error = UncertainError(f"step {intent!r} may have reached Intercom before a restart")
            raise AttemptsExhaustedError(error, 0)
        log.info("command.resumed", command_id=command.command_id, done=plan.done)
        return plan

    @staticmethod
    def _next(steps: Recipe[Any], plan: Plan[Any], index: int) -> int:
        """Return the index of the step to run next (a recovery may jump back)."""
        if plan.jump is None:
            return index + 1
        target, plan.jump = plan.jump, None
        return [step.name for step in steps].index(target)

    async def _step(self, plan: Plan[Any], step: Step[Any], last: bool) -> int:
        """Run one step and record it; return its attempts."""
        try:
            call = step.request(plan)
            attempts = 0 if call is None else await self._call(plan, step, call)
        except UnresolvedError as exc:
            raise AttemptsExhaustedError(exc, 1) from exc
        if plan.jump is None:
            plan.done.append(step.name)
            if call is not None and not last:  # a local decision is simply made again
                self._save(plan)
        return attempts

    async def _call(
        self, plan: Plan[Any], step: Step[Any], call: tuple[str, str, dict[str, Any]]
    ) -> int:
        """Make the step's call and feed its answer (or its recoverable error) to the plan."""
        if not step.idempotent:
            self._save(plan, intent=step.name)
            if isinstance(self._progress, Durable):
                await self._progress.persist()  # the mark must outlive a crash during the call
        try:
            answer = await self._sender.call(
                Request(*call, plan.command.command_id, step.idempotent)
            )
        except AttemptsExhaustedError as failed:
            error = failed.error
            if isinstance(error, IntercomResponseError) and step.recover(plan, error):
                return failed.attempts
            if isinstance(error, IntercomResponseError) and not step.idempotent:
                self._save(plan)  # Intercom answered with a refusal: it did not act
            raise
        step.take(plan, answer.body)
        return answer.attempts

    def _save(self, plan: Plan[Any], intent: str | None = None) -> None:
        """Record the plan's progress under its command id."""
        self._progress[plan.command.command_id] = {
            "done": plan.done,
            "values": plan.values,
            "intent": intent,
        }
