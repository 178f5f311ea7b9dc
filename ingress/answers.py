"""How the ingress answers: JSON error bodies, request ids, and never a 410 or 429."""

from __future__ import annotations

import itertools
import json
import os
from http import HTTPStatus

import structlog
from aiohttp import web

from ingress.errors import ReadTimeoutError, SpoolUnavailableError
from intercom_stream.errors import SignatureError

log = structlog.get_logger("ingress.answers")
REQUEST_ID = "X-Request-Id"
# 410 disables Intercom's subscription for good and 429 throttles it for up to two hours.
FORBIDDEN_STATUSES = frozenset({410, 429})
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def _error_body(code: str, message: str, request_id: str) -> dict[str, object]:
    """Return the JSON error body every error answer carries."""
    return {"error": {"code": code, "message": message}, "request_id": request_id}


def json_error(status: int, code: str, message: str, request_id: str = "") -> web.Response:
    """Return a JSON error response with a stable code, a human message and the request id."""
    return web.json_response(_error_body(code, message, request_id), status=status)


_PROCESS = os.urandom(4).hex()
_SEQUENCE = itertools.count(1)


def new_request_id() -> str:
    """Return a new request id: a random process prefix and a counter."""
    return f"{_PROCESS}-{next(_SEQUENCE):x}"


def request_id(request: web.BaseRequest) -> str:
    """Return the caller's request id, or a new one."""
    return request.headers.get(REQUEST_ID) or new_request_id()


def raw_error(status: HTTPStatus, code: str, message: str, *headers: tuple[str, str]) -> bytes:
    """Return a whole JSON error answer that closes the connection, as bytes for a transport."""
    ident = new_request_id()
    body = json.dumps(_error_body(code, message, ident)).encode()
    lines = [f"HTTP/1.1 {status.value} {status.phrase}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", "Connection: close", f"{REQUEST_ID}: {ident}",
             *(f"{name}: {value}" for name, value in headers)]  # fmt: skip
    return "\r\n".join([*lines, "", ""]).encode() + body


def _own_error(exc: SignatureError | SpoolUnavailableError, ident: str) -> web.Response:
    """Answer a bad signature with 401 and an unwritable spool with 503."""
    if isinstance(exc, SignatureError):
        log.warning("request.invalid_signature", request_id=ident, reason=str(exc))
        return json_error(401, "invalid_signature", str(exc), ident)
    return json_error(503, "spool_unavailable", str(exc), ident)


def _http_error(request: web.BaseRequest, exc: web.HTTPException, ident: str) -> web.Response:
    """Answer an HTTP error (413, 415, 400, ...) with a JSON body, keeping headers such as Allow."""
    code = exc.reason.lower().replace(" ", "_")
    log.info("request.refused", request_id=ident, status=exc.status, path=request.path)
    response = json_error(exc.status, code, exc.text or exc.reason, ident)
    for name, value in exc.headers.items():
        if name.lower() not in _BODY_HEADERS:
            response.headers.add(name, value)
    return response


def _unexpected(request: web.BaseRequest, exc: Exception, ident: str) -> web.Response:
    """Answer a defect with a JSON 500, logging it with its traceback."""
    log.error("request.failed", request_id=ident, path=request.path, exc_info=exc)
    return json_error(500, "internal_error", "the request could not be handled", ident)


def _disconnected(request: web.BaseRequest, exc: ConnectionError, ident: str) -> web.Response:
    """Answer a client that went away mid-request (nobody will read it) with a 400."""
    log.info("request.client_disconnected", request_id=ident, path=request.path, error=repr(exc))
    return json_error(400, "client_disconnected", "the client closed the connection", ident)


def _read_timeout(exc: ReadTimeoutError, ident: str) -> web.Response:
    """Answer a body that did not arrive in time with a 408 that closes the connection."""
    response = json_error(408, "request_timeout", str(exc), ident)
    response.force_close()
    return response


def for_exception(request: web.BaseRequest, exc: Exception, ident: str) -> web.Response:
    """Return the JSON error answer for an exception an endpoint raised."""
    if isinstance(exc, ConnectionError):
        return _disconnected(request, exc, ident)
    if isinstance(exc, ReadTimeoutError):
        return _read_timeout(exc, ident)
    if isinstance(exc, web.HTTPException):
        return _http_error(request, exc, ident)
    if isinstance(exc, (SignatureError, SpoolUnavailableError)):
        return _own_error(exc, ident)
    return _unexpected(request, exc, ident)


def finish(response: web.StreamResponse, ident: str) -> web.StreamResponse:
    """Replace a 410 or 429 with a 503 and set the request id header."""
    if response.status in FORBIDDEN_STATUSES:
        response = json_error(503, "unavailable", "temporarily unavailable", ident)
    response.headers[REQUEST_ID] = ident
    return response
