from __future__ import annotations

import base64
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from embedded_stack.apigateway.authorizer import AuthorizationError
from embedded_stack.apigateway.gateway import Gateway, HandlerCode, is_binary
from lambdas import catalog
from lambdas.catalog import Function, Route
from unit_tests.embedded_stack.container_handlers import wait_until
from unit_tests.gateway_client import GatewayClient

ECHO = Function(name="echo", description="returns what it was given")
PUBLIC_ECHO = Route("GET", "/things/{thingId}", ECHO, public=True)
STATIC = Route("GET", "/things/special", ECHO, public=True)
PROTECTED = Route("POST", "/things", ECHO, public=False)


class Verifier:
    def claims(self, authorization_header: str | None) -> dict[str, str]:
        if authorization_header != "Bearer good":
            raise AuthorizationError("bad token")
        return {"sub": "user-1"}


class FakeCode:
    """Routes and a handler of the test's choosing, in place of the catalog's."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self.events: list[dict[str, Any]] = []
        self._handler = handler

    def routes(self) -> tuple[Route, ...]:
        return (PUBLIC_ECHO, STATIC, PROTECTED)

    def handler(self, function: Function) -> Callable[[dict[str, Any], Any], Any]:
        def record(event: dict[str, Any], context: Any) -> Any:
            self.events.append(event)
            return self._handler(event, context)

        return record


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"resource": event["resource"], "function": context.function_name}),
    }


def client_for(handler: Callable[[dict[str, Any], Any], Any] = echo) -> tuple[GatewayClient, FakeCode]:
    code = FakeCode(handler)
    return GatewayClient(Gateway(code, Verifier())), code  # type: ignore[arg-type]


def test_unknown_path_is_the_404_gateway_response() -> None:
    client, code = client_for()

    response = client.get("/nothing/here")

    assert response.status_code == 404
    assert response.json["message"] == "Not Found" and response.json["requestId"]
    assert code.events == []


def test_undeclared_method_on_a_known_path_is_405_with_allow() -> None:
    client, code = client_for()

    response = client.delete("/things")

    assert response.status_code == 405
    assert response.json["message"] == "Method Not Allowed"
    assert response.headers["Allow"] == "POST"
    assert code.events == []


@pytest.mark.parametrize("authorization", [None, "Bearer bad", "good", ""])
def test_a_protected_route_without_a_valid_token_is_401_and_the_function_never_runs(
    authorization: str | None,
) -> None:
    client, code = client_for()
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = client.post("/things", json={}, headers=headers)

    assert response.status_code == 401
    assert response.json["message"] == "Unauthorized"
    assert code.events == []


def test_the_authorizer_claims_reach_the_function() -> None:
    client, code = client_for()

    response = client.post("/things", json={"a": 1}, headers={"Authorization": "Bearer good"})

    assert response.status_code == 200
    event = code.events[0]
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "user-1"}
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.json == {"resource": "/things", "function": "echo"}


def test_path_parameters_query_and_the_literal_path_first() -> None:
    client, code = client_for()

    client.get("/things/t-1?tag=a&tag=b")
    client.get("/things/special")

    assert code.events[0]["pathParameters"] == {"thingId": "t-1"}
    assert code.events[0]["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert code.events[0]["queryStringParameters"] == {"tag": "b"}
    assert code.events[1]["resource"] == "/things/special"
    assert code.events[1]["pathParameters"] is None  # API Gateway sends null, not {}, for a path without any


def test_a_binary_upload_reaches_the_function_base64_encoded() -> None:
    client, code = client_for()
    png = b"\x89PNG\r\n\x1a\n\x00\xff"

    client.post("/things", data=png, headers={"Authorization": "Bearer good", "Content-Type": "image/png"})

    assert code.events[0]["isBase64Encoded"] is True
    assert base64.b64decode(code.events[0]["body"]) == png
    assert is_binary("multipart/form-data") and not is_binary("application/json")


def test_a_binary_response_is_decoded() -> None:
    client, _ = client_for(
        lambda event, context: {
            "statusCode": 200,
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )

    assert client.get("/things/x").data == b"\x00\x01"


@pytest.mark.parametrize(
    "handler",
    [
        lambda event, context: 1 / 0,
        lambda event, context: {"statusCode": "200"},
        lambda event, context: {"body": "no status"},
    ],
)
def test_a_failing_or_malformed_function_is_502(handler: Callable[[dict[str, Any], Any], Any]) -> None:
    client, _ = client_for(handler)

    response = client.get("/things/x")

    assert response.status_code == 502
    assert response.json["message"] == "Internal server error"


def test_handler_code_serves_the_catalog() -> None:
    code = HandlerCode()

    assert code.routes() == catalog.routes()
    assert code.handler(catalog.TENANTS) is importlib.import_module("lambdas.tenants.handler").lambda_handler
    assert code.reload_if_changed() is False


@pytest.fixture
def reloadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    package = tmp_path / "reloadable_fns"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = package / "catalog.py"
    source.write_text("def routes():\n    return ('v1',)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield source
    for name in [name for name in sys.modules if name.startswith("reloadable_fns")]:
        del sys.modules[name]


def edit(source: Path, text: str) -> None:
    source.write_text(text)
    os.utime(source, ns=(0, source.stat().st_mtime_ns + 1_000_000_000))


def test_the_watcher_reloads_the_package_off_the_request_path_when_a_source_changes(reloadable: Path) -> None:
    code = HandlerCode(catalog_module="reloadable_fns.catalog")
    deployed = threading.Event()
    stop = code.watch(on_change=deployed.set, interval=0.05)
    assert code.routes() == ("v1",)

    edit(reloadable, "def routes():\n    return ('v2',)\n")

    assert deployed.wait(timeout=30)
    stop.set()
    assert code.routes() == ("v2",)


def test_an_edit_that_does_not_import_keeps_the_previous_code(
    reloadable: Path, caplog: pytest.LogCaptureFixture
) -> None:
    code = HandlerCode(catalog_module="reloadable_fns.catalog")
    stop = code.watch(on_change=lambda: None, interval=0.05)

    edit(reloadable, "def routes(:\n")

    assert wait_until(lambda: "does not import" in caplog.text)
    stop.set()
    assert code.routes() == ("v1",)


def test_a_fault_of_the_gateway_itself_is_a_json_500() -> None:
    class BrokenVerifier:
        def claims(self, authorization_header: str | None) -> dict[str, str]:
            raise RuntimeError("JWKS unreachable")

    code = FakeCode(echo)
    client = GatewayClient(Gateway(code, BrokenVerifier()))  # type: ignore[arg-type]

    response = client.post("/things", json={}, headers={"Authorization": "Bearer good"})

    assert response.status_code == 500
    assert response.json["message"] == "Internal server error"
    assert code.events == []
