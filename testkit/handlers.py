"""Calls to handlers exactly as API Gateway makes them: the event of a REST proxy integration, the Cognito
authorizer's claims on a protected route, and a Lambda context."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

from embedded_stack.apigateway.events import lambda_context, proxy_event
from lambdas import catalog

CALLER_CLAIMS = {
    "sub": "5f1b6a0e-2d4c-4e8a-9b1a-0c2d3e4f5a6b",
    "email": "caller@example.com",
    "token_use": "id",
}


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    path: str,
    body: Any = None,
    *,
    claims: dict[str, str] | None = CALLER_CLAIMS,
    headers: dict[str, str] | None = None,
    query: dict[str, str | list[str]] | None = None,
    raw_body: str | bytes | None = None,
) -> HttpResult:
    """Calls the handler that serves `method path` with the event API Gateway would send it."""
    route = next(route for route in catalog.routes() if route.method == method and route.path_pattern.match(path))
    match = route.path_pattern.match(path)
    assert match is not None
    payload = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    event = proxy_event(
        method,
        path,
        resource=route.path,
        body=payload,
        headers={"Content-Type": "application/json", **(headers or {})},
        query=query,
        path_parameters=match.groupdict(),
        claims=None if route.public else claims,
    )
    handler = importlib.import_module(route.function.module).lambda_handler
    result = handler(event, lambda_context(route.function.name))
    merged = dict(result.get("headers") or {})
    merged |= {name: ", ".join(values) for name, values in (result.get("multiValueHeaders") or {}).items()}
    return HttpResult(result["statusCode"], merged, result.get("body") or "")
