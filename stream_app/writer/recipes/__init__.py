"""The recipe of every command kind: the calls it becomes (see plan.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.commands import AnyCommand
from stream_app.writer.cache import Caches
from stream_app.writer.recipes import contacts, others
from stream_app.writer.recipes.plan import Plan, Recipe, Step, UnresolvedError

RECIPES: dict[str, Callable[[Caches], Recipe[Any]]] = {
    "data_event.create": others.data_event,
    "contact.find_or_create": contacts.find_or_create,
    "contact.update": contacts.update_contact,
    "contact.merge": contacts.merge,
    "contact.tag": contacts.tag,
    "contact.untag": contacts.tag,
    "conversation.reply": others.conversation_message,
    "conversation.note": others.conversation_message,
    "conversation.close": others.conversation_message,
    "conversation.open": others.conversation_state,
    "conversation.snooze": others.conversation_state,
    "conversation.assign": others.conversation_state,
    "article.create": others.article_create,
    "article.update": others.article_update,
    "company.upsert": others.company_upsert,
    "company.attach_contact": others.attach_company,
}


def recipe_for(command: AnyCommand, caches: Caches) -> Recipe[Any]:
    """Return the steps of the command's kind."""
    return RECIPES[command.kind](caches)


__all__ = ["RECIPES", "Plan", "Recipe", "Step", "UnresolvedError", "recipe_for"]
