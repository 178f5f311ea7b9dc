"""The HTTP boundary to Intercom's REST API: one keep-alive session, aiohttp errors translated."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
import orjson
import structlog
from pydantic import SecretStr

from intercom_stream.settings import Settings
from stream_app.writer.errors import (
    ConnectionFailedError,
    IntercomResponseError,
    MissingTokenError,
    RateHeaders,
    RequestTimeoutError,
    TransportError,
    error_for_status,
)

log = structlog.get_logger("stream_app.writer.client")
COMMAND_ID_HTTP_HEADER = "X-Command-Id"  # on every call to Intercom
MAX_CONNECTIONS = 100
BODY_METHODS = ("POST", "PUT")


@dataclass(frozen=True)
class Accepted:
    """A successful answer: its status, rate headers and JSON body (empty when there is none)."""

    status: int
    rate: RateHeaders
    body: dict[str, Any] = field(default_factory=dict)


def rate_headers(headers: Any) -> RateHeaders:
    """Parse the X-RateLimit-* headers, ignoring absent or malformed values."""

    def number(name: str) -> float | None:
        try:
            return float(headers[name])
        except (KeyError, TypeError, ValueError):
            return None

    limit, remaining = number("X-RateLimit-Limit"), number("X-RateLimit-Remaining")
    return RateHeaders(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=number("X-RateLimit-Reset"),
    )


def transport_error(call: str, exc: TimeoutError | aiohttp.ClientError) -> TransportError:
    """Return our error for an aiohttp failure that got no HTTP answer."""
    if isinstance(exc, TimeoutError):  # aiohttp's ServerTimeoutError is a TimeoutError too
        return RequestTimeoutError(f"{call} timed out")
    return ConnectionFailedError(f"{call} failed: {exc!r}")


def success_body(raw: bytes) -> dict[str, Any]:
    """Return a 2xx answer's JSON object, or an empty dict when it has none."""
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        body = None
    return body if isinstance(body, dict) else {}


def error_body(raw: bytes) -> dict[str, Any]:
    """Return Intercom's error.list body, or a stand-in when the body is not JSON."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        return body
    return {
        "type": "error.list",
        "errors": [{"code": "unparsed", "message": raw[:500].decode(errors="replace")}],
    }


@dataclass(frozen=True)
class Connection:
    """Where and as whom the writer calls Intercom: the few settings the client needs."""

    base_url: str
    token: SecretStr
    version: str
    connect_timeout: float
    total_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Connection:
        """Take the client's values from the settings (at the composition root only)."""
        return cls(
            settings.intercom_api_url.rstrip("/"),
            settings.intercom_access_token,
            settings.intercom_version,
            settings.writer_connect_timeout_seconds,
            settings.writer_total_timeout_seconds,
        )


class IntercomClient:
    """Sends calls to Intercom with the app's token; use as an async context manager."""

    def __init__(self, connection: Connection) -> None:
        """Keep where to call; the session opens on enter, inside the running loop."""
        self._connection = connection
        self._base = connection.base_url
        self._session: aiohttp.ClientSession | None = None

    @property
    def has_token(self) -> bool:
        """Whether an access token is configured."""
        return bool(self._connection.token.get_secret_value().strip())

    async def __aenter__(self) -> IntercomClient:
        """Open the keep-alive session."""
        timeout = aiohttp.ClientTimeout(
            total=self._connection.total_timeout,
            sock_connect=self._connection.connect_timeout,
        )
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=60),
            headers=self._default_headers(),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _default_headers(self) -> dict[str, str]:
        """Return the headers of every call (the token is never logged)."""
        token = self._connection.token.get_secret_value().strip()
        return {
            "Authorization": f"Bearer {token}",
            "Intercom-Version": self._connection.version,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    async def call(self, method: str, path: str, body: dict[str, Any], command_id: str) -> Accepted:
        """Make one call; return Accepted on 2xx, else raise the matching WriterError."""
        if not self.has_token:
            raise MissingTokenError("INTERCOM_ACCESS_TOKEN is empty: refusing to send")
        if self._session is None:
            raise RuntimeError("IntercomClient used outside `async with`")
        try:
            async with self._session.request(
                method,
                self._base + path,
                data=orjson.dumps(body) if method in BODY_METHODS else None,
                headers={COMMAND_ID_HTTP_HEADER: command_id},
            ) as response:
                raw = await response.read()
                return self._outcome(response.status, response.headers, raw, command_id)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(f"{method} {path}", exc) from exc

    def _outcome(self, status: int, headers: Any, raw: bytes, command_id: str) -> Accepted:
        """Return Accepted for 2xx, else build, log and raise the error."""
        rate = rate_headers(headers)
        if 200 <= status < 300:
            return Accepted(status, rate, success_body(raw))
        error: IntercomResponseError = error_for_status(status, error_body(raw), rate)
        log.warning(
            "intercom.error_response",
            status=status,
            request_id=error.request_id,
            command_id=command_id,
            errors=error.errors,
        )
        raise error
