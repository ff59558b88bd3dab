"""The second `chalice local` baseline of bench/local_stack.py: chalice's local gateway in front of the stack's own
functions for the same two routes (`/health`: lambdas/platform, `/tenants/{tenantId}`: lambdas/tenants; Powertools
resolvers with request and response validation), called in chalice's process as chalice calls its own app.

bench/chalice_baseline answers with one-line views; the stack runs the real functions in containers. This baseline
runs the same functions without containers, so the two sides do the same work in the function and differ only in
what serves it. The glue is what a user would write: chalice's local event lacks fields of an API Gateway proxy event
that Powertools reads, the functions behind a protected route read the caller from the authorizer's claims, and
chalice's server expects single-valued headers. The claims are read from the token without checking it (the stack's
check is measured apart and taken out of its figure).
"""

from __future__ import annotations

import importlib
from typing import Any

import jwt
from chalice import Chalice

from embedded_stack.apigateway.authorizer import render_claims
from lambdas import catalog

# Which function answers a route is the catalog's to say, as for the stack.
STACK_FUNCTIONS = {
    (route.method, route.path): importlib.import_module(route.function.module).lambda_handler
    for route in catalog.routes()
}


class StackFunctions(Chalice):
    """A Chalice app whose Lambda entry point calls the stack's functions; its routes only tell chalice what exists."""

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = event["requestContext"]
        headers = event["headers"]  # chalice lower-cases their names
        request_context = request | {"requestId": context.aws_request_id, "stage": "api"}
        if "authorization" in headers:
            token = headers["authorization"].removeprefix("Bearer ")
            claims = render_claims(jwt.decode(token, options={"verify_signature": False}))
            request_context["authorizer"] = {"claims": claims}
        result = STACK_FUNCTIONS[request["httpMethod"], request["resourcePath"]](
            {
                "resource": request["resourcePath"],
                "path": request["path"],
                "httpMethod": request["httpMethod"],
                "headers": headers,
                "multiValueHeaders": {name: [value] for name, value in headers.items()},
                "queryStringParameters": None,
                "multiValueQueryStringParameters": event["multiValueQueryStringParameters"],
                "pathParameters": event["pathParameters"],
                "stageVariables": None,
                "requestContext": request_context,
                "body": event["body"],
                "isBase64Encoded": event.get("isBase64Encoded", False),
            },
            context,
        )
        # Single values where there is one: chalice's server writes a `Content-Type` list as the list's text.
        repeated = {
            name: values[0] if len(values) == 1 else values
            for name, values in (result.pop("multiValueHeaders", None) or {}).items()
        }
        return result | {"headers": (result.get("headers") or {}) | repeated, "multiValueHeaders": {}}


app = StackFunctions(app_name="chalice-same-function")


@app.route("/health")
def health() -> None:
    raise AssertionError("never called: the stack's function answers")


@app.route("/tenants/{tenantId}")
def tenant(tenantId: str) -> None:
    raise AssertionError("never called: the stack's function answers")
