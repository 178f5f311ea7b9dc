"""Outcomes of an Intercom call as exceptions; the retry decision lives on the class.

WriterError (ProcessingError)
├── MissingTokenError             no access token configured: never send (fail closed)
├── TransportError                no HTTP answer; retriable with backoff; `outage`
│   ├── RequestTimeoutError       connect or total timeout
│   └── ConnectionFailedError     refused, reset, DNS, broken payload
└── IntercomResponseError         Intercom answered with an error status
    ├── RateLimitedError          429: retriable once the window resets (retry_after)
    ├── ServerError               5xx: retriable with backoff; `outage`
    ├── AuthError                 401/403: halts all sending; commands are kept
    ├── NotFoundError             404 (unknown contact): dead-letter at once; `command_fault`
    ├── InvalidRequestError       400/422: dead-letter at once; `command_fault`
    └── UnexpectedStatusError     any other status: dead-letter at once; `command_fault`

AttemptsExhaustedError (intercom_stream.errors): every attempt at one command failed
└── OutageOutlastedError          Intercom kept failing past the outage horizon

`outage` errors may mean Intercom as a whole is failing: the writer's circuit counts them
(health.py). A `command_fault` is Intercom judging this one command, so Intercom is up.
Every IntercomResponseError carries the `status`, Intercom's error `code`, `retriable` and
Intercom's `request_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from intercom_stream.errors import AttemptsExhaustedError, ProcessingError


@dataclass(frozen=True)
class RateHeaders:
    """The X-RateLimit-* headers of one response (None where absent or unreadable)."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None


class WriterError(ProcessingError):
    """An Intercom call did not succeed."""

    retriable: bool = False
    halts_sending: bool = False
    outage: bool = False  # may mean Intercom as a whole is failing (the circuit counts it)
    command_fault: bool = False  # Intercom answered and refused this command: Intercom is up
    retry_after: float | None = None  # unix time before which retrying is pointless
    rate: RateHeaders | None = None


class MissingTokenError(WriterError):
    """INTERCOM_ACCESS_TOKEN is empty; the writer refuses to send."""

    halts_sending = True


class TransportError(WriterError):
    """The request got no HTTP answer."""

    retriable = True
    outage = True


class RequestTimeoutError(TransportError):
    """The connect or total timeout expired."""


class ConnectionFailedError(TransportError):
    """The connection could not be made or broke."""


class IntercomResponseError(WriterError):
    """Intercom answered with an error status and (usually) an `error.list` body."""

    def __init__(self, status: int, body: dict[str, Any], rate: RateHeaders | None) -> None:
        """Keep the status, Intercom's error body, its request id and the rate headers."""
        self.status = status
        self.body = body
        self.request_id: str | None = body.get("request_id")
        self.errors: list[dict[str, Any]] = list(body.get("errors") or [])
        self.rate = rate
        super().__init__(self.describe())

    @property
    def code(self) -> str | None:
        """Return Intercom's code of the first error in the body (e.g. `not_found`)."""
        first = self.errors[0] if self.errors else None
        return str(first.get("code")) if isinstance(first, dict) and first.get("code") else None

    def describe(self) -> str:
        """Return a one-line summary with the codes, messages and request id."""
        details = "; ".join(
            f"{e.get('code')}: {e.get('message')}" for e in self.errors if isinstance(e, dict)
        )
        return f"HTTP {self.status} ({details or 'no error body'}) request_id={self.request_id}"


class RateLimitedError(IntercomResponseError):
    """429: the window's budget is spent; retry once X-RateLimit-Reset has passed."""

    retriable = True

    def __init__(self, status: int, body: dict[str, Any], rate: RateHeaders | None) -> None:
        """Take the retry time from X-RateLimit-Reset."""
        super().__init__(status, body, rate)
        self.retry_after = rate.reset if rate else None


class ServerError(IntercomResponseError):
    """5xx: Intercom failed; retry with backoff."""

    retriable = True
    outage = True


class AuthError(IntercomResponseError):
    """401/403: the token is wrong or lacks scope; stop sending and keep the commands."""

    halts_sending = True


class NotFoundError(IntercomResponseError):
    """404: the contact (or resource) does not exist."""

    command_fault = True


class InvalidRequestError(IntercomResponseError):
    """400/422: Intercom rejected the body."""

    command_fault = True


class UnexpectedStatusError(IntercomResponseError):
    """A status this writer has no rule for."""

    command_fault = True


class OutageOutlastedError(AttemptsExhaustedError):
    """Intercom kept failing for longer than the outage horizon; the command is given up."""


def error_for_status(
    status: int, body: dict[str, Any], rate: RateHeaders | None
) -> IntercomResponseError:
    """Return the most specific error for an error status."""
    cls: type[IntercomResponseError]
    if status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    elif status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFoundError
    elif status in (400, 422):
        cls = InvalidRequestError
    else:
        cls = UnexpectedStatusError
    return cls(status, body, rate)
