"""How the ingress answers: JSON error bodies, request ids, and never a 410 or 429."""

from __future__ import annotations

import itertools
import os

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ingress.errors import SpoolUnavailableError
from ingress.metrics import Metrics
from intercom_stream.errors import SignatureError

log = structlog.get_logger("ingress.answers")
REQUEST_ID = "X-Request-Id"
REQUEST_ID_KEY = web.RequestKey("request_id", str)
# 410 disables Intercom's subscription for good and 429 throttles it for up to two hours.
FORBIDDEN_STATUSES = frozenset({410, 429})


def json_error(status: int, code: str, message: str, request_id: str = "") -> web.Response:
    """Return a JSON error response with a stable code, a human message and the request id."""
    body = {"error": {"code": code, "message": message}, "request_id": request_id}
    return web.json_response(body, status=status)


_PROCESS = os.urandom(4).hex()
_SEQUENCE = itertools.count(1)


def request_id(request: web.Request) -> str:
    """Return the caller's request id, or a new one: a random process prefix and a counter."""
    return request.headers.get(REQUEST_ID) or f"{_PROCESS}-{next(_SEQUENCE):x}"


def _own_error(exc: SignatureError | SpoolUnavailableError, ident: str) -> web.Response:
    """Answer a bad signature with 401 and an unwritable spool with 503."""
    if isinstance(exc, SignatureError):
        log.warning("request.invalid_signature", request_id=ident, reason=str(exc))
        return json_error(401, "invalid_signature", str(exc), ident)
    return json_error(503, "spool_unavailable", str(exc), ident)


def _http_error(request: web.Request, exc: web.HTTPException, ident: str) -> web.Response:
    """Answer an HTTP error (413, 415, 404, ...) with a JSON body."""
    code = exc.reason.lower().replace(" ", "_")
    log.info("request.refused", request_id=ident, status=exc.status, path=request.path)
    return json_error(exc.status, code, exc.text or exc.reason, ident)


def middleware(metrics: Metrics, counted_path: str) -> Middleware:
    """Return the middleware that sets request ids, shapes errors and counts webhook answers."""

    @web.middleware
    async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        ident = request[REQUEST_ID_KEY] = request_id(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = _http_error(request, exc, ident)
        except (SignatureError, SpoolUnavailableError) as exc:
            if isinstance(exc, SignatureError):
                metrics.signature_failures.inc()
            response = _own_error(exc, ident)
        if response.status in FORBIDDEN_STATUSES:
            response = json_error(503, "unavailable", "temporarily unavailable", ident)
        response.headers[REQUEST_ID] = ident
        if request.path == counted_path:
            metrics.answered(response.status)
        return response

    return answer
