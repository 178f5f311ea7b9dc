"""Help Center article commands: create (a draft by default) and update."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from schemas.commands.base import CommandBase, IntercomId, Strict

Title = Annotated[StrictStr, Field(min_length=1, max_length=255, pattern=r"\S")]
Html = Annotated[StrictStr, Field(max_length=1_000_000)]
Description = Annotated[StrictStr, Field(max_length=1000)]
PositiveId = Annotated[StrictInt, Field(gt=0)]


class NewArticle(Strict):
    """The body of `POST /articles`."""

    title: Title
    body: Html
    author_id: PositiveId
    description: Description | None = None
    parent_id: PositiveId | None = None
    parent_type: Literal["collection", "section"] | None = None
    state: Literal["draft", "published"] = "draft"

    @model_validator(mode="after")
    def _parent_pair(self) -> NewArticle:
        """Require parent_type whenever parent_id is given, and the reverse."""
        if (self.parent_id is None) != (self.parent_type is None):
            raise ValueError("parent_id and parent_type go together")
        return self


class ArticleChanges(Strict):
    """The fields of an article to change (`PUT /articles/{id}`); omitted state stays as is."""

    title: Title | None = None
    body: Html | None = None
    description: Description | None = None
    author_id: PositiveId | None = None
    state: Literal["draft", "published"] | None = None
    parent_id: PositiveId | None = None
    parent_type: Literal["collection", "section"] | None = None

    @model_validator(mode="after")
    def _something(self) -> ArticleChanges:
        """Require at least one change."""
        if not self.model_dump(exclude_none=True):
            raise ValueError("changes must name at least one field")
        return self


class CreateArticle(CommandBase):
    """Create a Help Center article, a draft unless `state` says published."""

    kind: Literal["article.create"] = "article.create"
    article: NewArticle

    def key(self) -> str:
        """Return `article:new`."""
        return "article:new"

    def body(self) -> dict[str, Any]:
        """Return the body of `POST /articles`."""
        return self.article.model_dump(mode="json", exclude_none=True)


class UpdateArticle(CommandBase):
    """Change some fields of an article."""

    kind: Literal["article.update"] = "article.update"
    article_id: IntercomId
    changes: ArticleChanges

    def key(self) -> str:
        """Return `article:<article_id>`."""
        return f"article:{self.article_id}"

    def body(self) -> dict[str, Any]:
        """Return the body of `PUT /articles/{id}` (the update schema types parent_id a string)."""
        body = self.changes.model_dump(mode="json", exclude_none=True)
        if "parent_id" in body:
            body["parent_id"] = str(body["parent_id"])
        return body
