"""What the functions log: never what a request carries (the caller's token, or a body, which may hold a password
or a token), and on every line the request it belongs to.

Powertools logs every event when POWERTOOLS_LOGGER_LOG_EVENT is set, as an operator may set it to debug; the
event carries the `Authorization` header. Every API function must refuse, whatever the environment says.
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Logger

from embedded_stack.apigateway.events import lambda_context, proxy_event
from embedded_stack.provision import Provisioned
from lambdas import catalog
from testkit import CALLER_CLAIMS, call

TOKEN = "eyJraWQiOiJzZWNyZXQtaWQtdG9rZW4ifQ.never-logged.signature"
BODY_SECRET = "Never-Logged-Body-42"

# One route of every API function, with a body where the route takes one.
ROUTES = [
    ("GET", "/health", None),
    ("POST", "/tenants", {"name": BODY_SECRET, "website": "logs.example", "contactEmail": "ops@logs.example"}),
    ("POST", "/sla-errors", {"fileName": BODY_SECRET, "expectedAt": "2024-05-01T06:00:00Z"}),
    ("POST", "/auth/login", {"email": "ada@example.com", "password": BODY_SECRET}),
    ("POST", "/user", {"name": BODY_SECRET, "email": "ada@example.com"}),
    ("POST", "/points/transactions", {"payer": BODY_SECRET, "points": 5, "timestamp": "2020-10-31T10:00:00Z"}),
    ("DELETE", "/me", None),
]


def test_every_api_function_is_covered() -> None:
    served = {route.function.name for method, path, _ in ROUTES for route in catalog.routes() if route.path == path}
    assert served == {function.name for function in catalog.FUNCTIONS if function.serves_api}


@pytest.fixture
def every_event_switch_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The handlers imported anew with every logging switch on (Powertools reads them at import), and their log."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    modules = [importlib.import_module(f.module) for f in catalog.FUNCTIONS if f.serves_api]
    for module in modules:
        importlib.reload(module)
    log_handler = Logger().registered_handler  # one handler for every Logger of the service
    buffer = io.StringIO()
    previous = log_handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    log_handler.setStream(previous)  # type: ignore[attr-defined]
    monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
    monkeypatch.delenv("POWERTOOLS_DEV")
    for module in modules:
        importlib.reload(module)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_function_logs_the_token_or_the_body(
    aws: Provisioned,
    every_event_switch_on: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    result = call(method, path, body, headers={"Authorization": f"Bearer {TOKEN}"})
    Logger().info("canary")

    logged = every_event_switch_on.getvalue() + capsys.readouterr().out
    assert result.status < 500, result.body
    assert "canary" in logged, "the log is not captured: the test would pass whatever the handler logs"
    assert TOKEN not in logged
    assert BODY_SECRET not in logged


def test_each_log_line_names_the_request_it_belongs_to(aws: Provisioned) -> None:
    """A function's JSON log carries API Gateway's request id as `correlation_id` (an operator finds a request's
    lines from the requestId an error answer quotes), the current request's, not the previous one's."""
    from lambdas.sla_errors import handler

    buffer = io.StringIO()
    previous = handler.logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        request_ids = ["0f7d6c2e-1111-4a5b-8c9d-000000000001", "0f7d6c2e-2222-4a5b-8c9d-000000000002"]
        for request_id in request_ids:
            event = proxy_event(
                "POST",
                "/sla-errors",
                resource="/sla-errors",
                body=json.dumps({"fileName": "daily.csv", "expectedAt": "2024-05-01T06:00:00Z"}),
                headers={"Content-Type": "application/json"},
                claims=CALLER_CLAIMS,
                request_id=request_id,
            )
            assert handler.lambda_handler(event, lambda_context("sla_errors"))["statusCode"] == 200
    finally:
        handler.logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]

    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["correlation_id"] for line in lines if line["message"] == "sla error recorded"] == request_ids
