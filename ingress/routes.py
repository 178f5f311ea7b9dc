"""Routes requests to their endpoints on aiohttp's low-level server: no router, no middleware.

The webhook is the hot path, so the ingress dispatches on an exact path and method itself, in
one coroutine: every answer gets a request id, exceptions become JSON errors, and a 410 or 429
becomes a 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from ingress import answers
from ingress.answers import json_error
from ingress.metrics import Metrics

# An endpoint answers one request, given the request and its request id.
Endpoint = Callable[[web.BaseRequest, str], Awaitable[web.StreamResponse]]
Routes = Mapping[str, Mapping[str, Endpoint]]


async def _not_found(request: web.BaseRequest, ident: str) -> web.StreamResponse:
    """Answer a path the ingress does not serve with a JSON 404."""
    return json_error(404, "not_found", f"no resource at {request.path}", ident)


def _not_allowed(allowed: Mapping[str, Endpoint]) -> Endpoint:
    """Return an endpoint answering a JSON 405 that lists the allowed methods."""
    methods = ", ".join(sorted(allowed))

    async def refuse(request: web.BaseRequest, ident: str) -> web.StreamResponse:
        response = json_error(405, "method_not_allowed", f"{request.method} not allowed", ident)
        response.headers["Allow"] = methods
        return response

    return refuse


def _with_head(methods: Mapping[str, Endpoint]) -> dict[str, Endpoint]:
    """Return the methods with HEAD served by GET where it has no endpoint of its own.

    aiohttp leaves the body out of an answer to HEAD.
    """
    served = dict(methods)
    if "GET" in served:
        served.setdefault("HEAD", served["GET"])
    return served


async def continue_if_expected(request: web.BaseRequest, expect: str) -> None:
    """Answer `Expect: 100-continue` so a client waiting for it sends the body; refuse others."""
    if request.version != HttpVersion11:
        return
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"unknown Expect: {expect}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the answer itself has not started


class HttpRouter:
    """Finds each request's endpoint by path and method and answers through it."""

    def __init__(self, routes: Routes, metrics: Metrics, counted_path: str) -> None:
        """Take the endpoints by path then method, and the path whose answers are counted."""
        self._routes = {path: _with_head(methods) for path, methods in routes.items()}
        self._refusals = {path: _not_allowed(methods) for path, methods in self._routes.items()}
        self._count = metrics.requests.inc
        self._counted_path = counted_path

    def endpoint(self, request: web.BaseRequest) -> Endpoint:
        """Return the endpoint of the request's path and method, or the refusal for it."""
        path = request.path
        methods = self._routes.get(path)
        if methods is None:
            return _not_found
        return methods.get(request.method) or self._refusals[path]

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request (aiohttp's low-level handler)."""
        ident = answers.request_id(request)
        try:
            if (expect := request.headers.get(hdrs.EXPECT)) is not None:
                await continue_if_expected(request, expect)
            response = await self.endpoint(request)(request, ident)
        except Exception as exc:  # noqa: BLE001 - every failure gets a JSON answer
            response = answers.for_exception(request, exc, ident)
        response = answers.finish(response, ident)
        if request.path == self._counted_path:
            self._count(response.status)
        return response
