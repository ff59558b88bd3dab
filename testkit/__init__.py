"""The test kit: what a test of this project's handlers needs, as `chalice.test.Client` is Chalice's.

- `call(method, path, body, claims=...)`: calls the function that serves the route with the event API Gateway
  would send it (the REST proxy event, the authorizer's claims on a protected route, a Lambda context) and answers
  an `HttpResult`. Run it inside `mocked_aws()`: moto with every table, bucket and the user pool the catalog
  declares, their names in the environment the functions read.
- `proxy_event(...)`, `lambda_context(...)`: the event and context on their own, for a handler called directly.
- `images`: small well-formed PNG, GIF, JPEG and WebP images, and multipart forms carrying them.
- `worked_example`: the points API's worked example and what the API answers to it.

unit_tests/, integration_tests/ and bench/ use it; docs/development.md shows a test written with it.
"""

from __future__ import annotations

from embedded_stack.apigateway.events import lambda_context, proxy_event
from testkit import images, worked_example
from testkit.aws import mocked_aws
from testkit.handlers import CALLER_CLAIMS, HttpResult, call

__all__ = [
    "CALLER_CLAIMS",
    "HttpResult",
    "call",
    "images",
    "lambda_context",
    "mocked_aws",
    "proxy_event",
    "worked_example",
]
