"""A local stand-in for an API Gateway REST API with Lambda proxy integrations.

It answers as the deployed API does: an unknown path gets the 404 Gateway Response, an undeclared method on a
known path the 405 of the `ANY` mock integration, a protected route without a valid Cognito ID token the 401
Gateway Response (and the function never runs), a function that raises or returns garbage the 502 API Gateway
gives. Otherwise it builds the proxy event, invokes the function (in the stack: in one of its Lambda-like
containers, embedded_stack/lambda_service/containers.py) and returns what the handler returned.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import importlib
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from werkzeug.datastructures import Headers

from embedded_stack.apigateway import edge
from embedded_stack.apigateway.authorizer import AuthorizationError
from embedded_stack.apigateway.edge import HttpRequest, HttpResponse
from embedded_stack.apigateway.events import lambda_context, new_request_id, proxy_event
from embedded_stack.lambda_service.containers import FunctionFailed, FunctionTimedOut, IntegrationTimedOut, Throttled
from lambdas import catalog
from lambdas.catalog import GatewayResponse, Route, cors

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("embedded_stack.apigateway.gateway")


class ClaimsVerifier(Protocol):
    def claims(self, authorization_header: str | None) -> dict[str, str]:
        """The caller's claims; AuthorizationError when the request may not pass."""
        ...


class HandlerCode:
    """The functions' code as the gateway routes it: the catalog's routes, read anew after a source file of the
    package changed (`watch`: a background poll, so that requests pay nothing for it)."""

    def __init__(self, catalog_module: str = "lambdas.catalog") -> None:
        self._catalog_module = catalog_module
        self._package = catalog_module.split(".")[0]
        self._catalog = importlib.import_module(catalog_module)
        self._sources = Path(importlib.import_module(self._package).__file__ or "").resolve().parent
        self._stamp = self._sources_stamp()
        # Import every handler now, as the start-up's work: a broken declaration fails here, not on a request.
        self._catalog.routes()

    def routes(self) -> tuple[Route, ...]:
        return self._catalog.routes()

    def handler(self, function: catalog.Function) -> Callable[[dict[str, Any], Any], Any]:
        return importlib.import_module(function.module).lambda_handler

    def reload_if_changed(self) -> bool:
        """Re-imports the package if a source changed since the last look; True if it did."""
        stamp = self._sources_stamp()
        if stamp == self._stamp:
            return False
        prefix = f"{self._package}."
        for name in [name for name in sys.modules if name == self._package or name.startswith(prefix)]:
            del sys.modules[name]
        try:
            self._catalog = importlib.import_module(self._catalog_module)
            self._catalog.routes()
        finally:
            self._stamp = stamp  # a broken edit is reported once, and read again on the next edit
        log.info("%s/ changed: handlers reloaded", self._package)
        return True

    def watch(self, on_change: Callable[[], None], interval: float = 0.5) -> threading.Event:
        """Polls the sources every `interval` seconds in a daemon thread, calling `on_change` after a reload.
        Setting the returned event stops it."""
        stopped = threading.Event()

        def poll() -> None:
            while not stopped.wait(interval):
                try:
                    changed = self.reload_if_changed()
                except Exception:
                    log.exception("%s/ changed but does not import: still serving the previous code", self._package)
                    continue
                if changed:
                    on_change()

        threading.Thread(target=poll, name="code-watcher", daemon=True).start()
        return stopped

    def _sources_stamp(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted((str(path), path.stat().st_mtime_ns) for path in self._sources.rglob("*.py")))


@dataclass(frozen=True)
class Resource:
    """An API Gateway resource: a path, what matches it, and its methods' routes."""

    path: str
    pattern: re.Pattern[str]
    methods: dict[str, Route]


class Resources:
    """The routes grouped by resource, looked up as API Gateway does: a literal path segment is preferred to a
    {parameter}, so literal paths come first (by exact lookup), then the others, fewest parameters first."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        methods: dict[str, dict[str, Route]] = {}
        for route in routes:
            methods.setdefault(route.path, {})[route.method] = route
        resources = [
            Resource(path, by_method[next(iter(by_method))].path_pattern, by_method)
            for path, by_method in methods.items()
        ]
        self._literal = {resource.path: resource for resource in resources if "{" not in resource.path}
        self._parametrized = sorted(
            (resource for resource in resources if "{" in resource.path), key=lambda resource: resource.path.count("{")
        )

    def find(self, path: str) -> tuple[Resource, dict[str, str]] | None:
        """The resource serving `path` and its path parameters; None if no resource does."""
        literal = self._literal.get(path)
        if literal is not None:
            return literal, {}
        for resource in self._parametrized:
            match = resource.pattern.match(path)
            if match is not None:
                return resource, match.groupdict()
        return None


class Functions(Protocol):
    async def invoke(self, function: catalog.Function, payload: bytes, request_id: str) -> dict[str, Any]:
        """The function's result for the event `payload` (JSON, as Lambda's Invoke API takes it); Throttled,
        FunctionFailed, FunctionTimedOut or IntegrationTimedOut if none."""
        ...


class InProcess:
    """Every function called in the gateway's own event loop, one event at a time: the gateway's behaviour without
    containers (unit tests)."""

    def __init__(self, code: HandlerCode) -> None:
        self.code = code

    async def invoke(self, function: catalog.Function, payload: bytes, request_id: str) -> dict[str, Any]:
        try:
            result = self.code.handler(function)(json.loads(payload), lambda_context(function.name))
        except Exception as error:
            raise FunctionFailed(type(error).__name__) from error
        return result  # type: ignore[no-any-return]


class Gateway:
    def __init__(
        self,
        code: HandlerCode,
        authorizer: ClaimsVerifier,
        stage: str = "local",
        cors_allowed_origins: tuple[str, ...] = (),
        functions: Functions | None = None,
    ) -> None:
        self.code = code
        self.authorizer = authorizer
        self.stage = stage
        self.cors_allowed_origins = cors_allowed_origins
        self.functions = functions or InProcess(code)
        self._routes: tuple[Route, ...] = ()
        self._resource_table = Resources(())

    def _resources(self) -> Resources:
        """The routes by resource, built again after a reload (the catalog then gives other routes)."""
        routes = self.code.routes()
        if routes is not self._routes:
            self._resource_table, self._routes = Resources(routes), routes
        return self._resource_table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI application: one HTTP request, answered as API Gateway answers it."""
        if scope["type"] != "http":
            return  # no lifespan or WebSocket: the server runs with neither
        started = time.perf_counter()
        request = edge.request_from(scope)
        request_id = new_request_id()
        try:
            response = await self.handle(request, receive, request_id)
        except edge.Refused as refused:
            response = gateway_response(refused.response, request_id)
            response.headers["Connection"] = "close"  # the rest of the body is not read
        except Exception:
            # A fault of the stand-in itself (the authorizer could not fetch keys, say): API Gateway's DEFAULT_5XX.
            log.exception("gateway fault on %s %s", request.method, request.path)
            response = gateway_response(catalog.DEFAULT_5XX, request_id)
        response = self.post_process(request, response)
        await edge.send_response(send, response)
        # One line a request, like the stage's access log (written once the client has its answer).
        log.info(
            "%s %s %d %.0fms",
            request.method,
            request.full_path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )

    async def handle(self, request: HttpRequest, receive: Receive, request_id: str) -> HttpResponse:
        edge.check_declared_length(request)
        found = self._resources().find(request.path)
        if found is None:
            return gateway_response(catalog.NOT_FOUND, request_id)
        resource, path_parameters = found
        route = resource.methods.get(request.method)
        if route is None and request.method == "OPTIONS" and self.cors_allowed_origins:
            return preflight_response(request, self.cors_allowed_origins, list(resource.methods))
        if route is None:
            return method_not_allowed(request_id, sorted(resource.methods))
        claims = None
        if not route.public:
            try:
                claims = self.authorizer.claims(request.header("Authorization"))
            except AuthorizationError as refused:
                log.info("authorizer refused %s %s: %s", request.method, request.path, refused)
                return gateway_response(catalog.UNAUTHORIZED, request_id)
        body = await edge.read_body(request, receive)
        payload = edge.invocation_payload(self.event_for(request, route, path_parameters, body, request_id, claims))
        return await self.invoke(route.function, payload, request_id)

    def post_process(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """What API Gateway adds on the way out: CORS headers on its own answers (a function's carry their own, as
        deployed), and compression."""
        if not response.from_function:
            for name, value in cors.response_headers(request.header("Origin"), self.cors_allowed_origins).items():
                response.headers[name] = value
        return edge.compress(request, response)

    def event_for(
        self,
        request: HttpRequest,
        route: Route,
        path_parameters: dict[str, str],
        body: bytes | None,
        request_id: str,
        claims: dict[str, str] | None,
    ) -> dict[str, Any]:
        query: dict[str, list[str]] = {}
        for name, value in request.args:
            query.setdefault(name, []).append(value)
        return proxy_event(
            request.method,
            request.path,
            resource=route.path,
            body=body,
            binary=is_binary(request.mimetype),
            headers=dict(request.headers()),
            query=query,
            path_parameters=path_parameters,
            claims=claims,
            stage=self.stage,
            request_id=request_id,
            source_ip=request.client_ip,
        )

    async def invoke(self, function: catalog.Function, payload: bytes, request_id: str) -> HttpResponse:
        try:
            return proxy_response(await self.functions.invoke(function, payload, request_id))
        except Throttled:
            # Lambda's 429 reaches a proxy integration's caller as API Gateway's 500 (INTEGRATION_FAILURE).
            return gateway_response(catalog.DEFAULT_5XX, request_id)
        except IntegrationTimedOut:
            log.warning("%s did not answer within API Gateway's integration timeout", function.name)
            return gateway_response(catalog.INTEGRATION_TIMEOUT, request_id)
        except (FunctionFailed, FunctionTimedOut) as failure:
            # API Gateway's answer to a function that fails or times out (the function's log has the details).
            log.error("function %s failed: %s", function.name, failure)
            return json_response(
                catalog.LAMBDA_FAILURE_STATUS, {"message": catalog.DEFAULT_5XX.message, "requestId": request_id}
            )
        except Exception:
            # ... or returns a malformed response.
            log.exception("function %s returned a malformed response", function.name)
            return json_response(
                catalog.LAMBDA_FAILURE_STATUS, {"message": catalog.DEFAULT_5XX.message, "requestId": request_id}
            )


@functools.lru_cache(maxsize=256)
def is_binary(mimetype: str) -> bool:
    return any(fnmatch.fnmatch(mimetype, pattern) for pattern in catalog.BINARY_MEDIA_TYPES)


def proxy_response(result: dict[str, Any]) -> HttpResponse:
    """The HTTP response for a proxy integration's result, which must be a dict with an int statusCode."""
    status = result["statusCode"]
    if not isinstance(status, int):
        raise TypeError(f"statusCode must be an int, not {status!r}")
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.remove(name)
        for value in values:
            headers.add(name, str(value))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    headers.setdefault("Content-Type", "application/json")
    return HttpResponse(status, data, headers, from_function=True)


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    data = json.dumps(body, separators=(",", ":")).encode()
    return HttpResponse(status, data, {"Content-Type": "application/json"} | (headers or {}))


def gateway_response(response: GatewayResponse, request_id: str) -> HttpResponse:
    return json_response(response.status, {"message": response.message, "requestId": request_id})


def preflight_response(request: HttpRequest, allowed_origins: tuple[str, ...], methods: list[str]) -> HttpResponse:
    """The deployed API's `OPTIONS` mock: 200, and `Access-Control-Allow-Origin` only for an allowed origin."""
    headers = cors.preflight_headers(request.header("Origin"), allowed_origins, methods)
    return HttpResponse(200, b"", {**headers, "Content-Type": "application/json"})


def method_not_allowed(request_id: str, allowed: list[str]) -> HttpResponse:
    return json_response(
        catalog.METHOD_NOT_ALLOWED_STATUS,
        {"message": catalog.METHOD_NOT_ALLOWED_MESSAGE, "requestId": request_id},
        headers={"Allow": ", ".join(allowed)},
    )
