"""The recipe of every command kind: the calls it becomes (see plan.py)."""

from __future__ import annotations

from typing import Any

from schemas.commands import AnyCommand
from stream_app.writer.recipes import contacts, others
from stream_app.writer.recipes.plan import Plan, Recipe, Step, UnresolvedError

RECIPES: dict[str, Recipe[Any]] = {
    "data_event.create": others.DATA_EVENT,
    "contact.find_or_create": contacts.FIND_OR_CREATE,
    "contact.update": contacts.UPDATE,
    "contact.merge": contacts.MERGE,
    "contact.tag": contacts.TAG,
    "contact.untag": contacts.TAG,
    "conversation.reply": others.CONVERSATION_MESSAGE,
    "conversation.note": others.CONVERSATION_MESSAGE,
    "conversation.close": others.CONVERSATION_MESSAGE,
    "conversation.open": others.CONVERSATION_STATE,
    "conversation.snooze": others.CONVERSATION_STATE,
    "conversation.assign": others.CONVERSATION_STATE,
    "article.create": others.ARTICLE_CREATE,
    "article.update": others.ARTICLE_UPDATE,
    "company.upsert": others.COMPANY_UPSERT,
    "company.attach_contact": others.ATTACH_COMPANY,
}


def recipe_for(command: AnyCommand) -> Recipe[Any]:
    """Return the steps of the command's kind."""
    return RECIPES[command.kind]


__all__ = ["RECIPES", "Plan", "Recipe", "Step", "UnresolvedError", "recipe_for"]
