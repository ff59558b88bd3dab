"""The second `chalice local` baseline of bench/local_stack.py: chalice's local gateway in front of the stack's own
`/health` function (lambdas/platform/handler.py, a Powertools resolver with request and response validation),
called in chalice's process as chalice calls its own app.

bench/chalice_baseline answers `/health` with a one-line view; the stack runs the real function in a container. This
baseline runs the same function without a container, so the two sides do the same work in the function and differ
only in what serves it. The glue is what a user would write: chalice's local event lacks fields of an API Gateway proxy
event that Powertools reads, and chalice's server expects single-valued headers.
"""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from lambdas.platform.handler import lambda_handler


class PowertoolsFunction(Chalice):
    """A Chalice app whose Lambda entry point is the stack's function; its routes only tell chalice what exists."""

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = event["requestContext"]
        headers = event["headers"]
        result = lambda_handler(
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
                "requestContext": request | {"requestId": context.aws_request_id, "stage": "api"},
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


app = PowertoolsFunction(app_name="chalice-same-function")


@app.route("/health")
def health() -> None:
    raise AssertionError("never called: the function answers /health")
