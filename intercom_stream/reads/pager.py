"""Pages through Intercom listings to the end: by cursor (search) or by page number (Help Center).

Search answers carry `pages.next.starting_after` until the last page; Help Center listings
carry `pages.total_pages` (and an empty page past the end). Every call is admitted by the
ReadPacer first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from intercom_stream.reads.pacing import ReadPacer
from stream_app.writer.client import Accepted
from stream_app.writer.errors import RateLimitedError

PER_PAGE = 150  # Intercom's maximum for every listing
READ_ID = "operator-read"


class Caller(Protocol):
    """The HTTP client's call (stream_app.writer.client.IntercomClient)."""

    async def call(
        self, method: str, path: str, body: dict[str, Any], command_id: str
    ) -> Accepted: ...


@dataclass(frozen=True)
class Page:
    """One page of a listing: its items and the total the listing announced."""

    items: list[dict[str, Any]]
    total: int | None


class Reader:
    """Makes paced read calls, waiting out a 429 instead of failing."""

    def __init__(self, caller: Caller, pacer: ReadPacer) -> None:
        """Keep the client and the pacer."""
        self._caller = caller
        self._pacer = pacer

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Return the JSON answer of one call, after the pacer admits it."""
        while True:
            await self._pacer.admit()
            try:
                accepted = await self._caller.call(method, path, body, READ_ID)
            except RateLimitedError as exc:
                self._pacer.rate_limited(exc.retry_after)
                continue
            self._pacer.observe(accepted.rate)
            return accepted.body

    async def search(self, path: str, body: dict[str, Any], key: str) -> AsyncIterator[Page]:
        """Yield the pages of a search (`POST …/search`), following the cursor to the end."""
        cursor: str | None = None
        while True:
            pagination = {"per_page": PER_PAGE} | ({"starting_after": cursor} if cursor else {})
            answer = await self.call("POST", path, body | {"pagination": pagination})
            yield Page(list(answer.get(key) or []), answer.get("total_count"))
            cursor = ((answer.get("pages") or {}).get("next") or {}).get("starting_after")
            if not cursor:
                return

    async def numbered(self, path: str) -> AsyncIterator[Page]:
        """Yield the pages of a Help Center listing (`?page=N&per_page=M`) to the last one."""
        page = 1
        while True:
            query = urlencode({"page": page, "per_page": PER_PAGE})
            answer = await self.call("GET", f"{path}?{query}", {})
            items = list(answer.get("data") or [])
            yield Page(items, answer.get("total_count"))
            total_pages = int((answer.get("pages") or {}).get("total_pages") or 0)
            if not items or page >= total_pages:
                return
            page += 1
