from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest
import requests

from embedded_stack.apigateway import edge
from embedded_stack.apigateway.gateway import Gateway
from unit_tests.embedded_stack.test_gateway import FakeCode, Verifier, echo
from unit_tests.gateway_client import GatewayClient

ORIGINS = ("http://localhost:*",)
BIG = b'{"padding": "' + b"x" * 4096 + b'"}'


def compressed(accept_encoding: str | None, body: bytes = BIG, **headers: str) -> edge.HttpResponse:
    sent = [(b"accept-encoding", accept_encoding.encode())] if accept_encoding else []
    request = edge.request_from({"method": "GET", "path": "/", "query_string": b"", "headers": sent})
    return edge.compress(request, edge.HttpResponse(200, body, headers))


def test_gzip_is_preferred_and_says_it_varies() -> None:
    response = compressed("deflate, gzip")

    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.data) == BIG


def test_deflate_when_gzip_is_refused() -> None:
    response = compressed("gzip;q=0, deflate")

    assert response.headers["Content-Encoding"] == "deflate"
    assert zlib.decompress(response.data) == BIG


@pytest.mark.parametrize(
    ("accept", "body", "headers"),
    [
        (None, BIG, {}),
        ("br", BIG, {}),
        ("gzip", b"x" * 1023, {}),  # under minimumCompressionSize
        ("gzip", BIG, {"Content-Encoding": "gzip"}),  # the function compressed it already
    ],
)
def test_left_alone(accept: str | None, body: bytes, headers: dict[str, str]) -> None:
    response = compressed(accept, body, **headers)

    assert response.data == body
    assert response.headers.get("Content-Encoding") == headers.get("Content-Encoding")


def gateway(origins: tuple[str, ...] = ORIGINS, handler: Any = echo) -> tuple[GatewayClient, FakeCode]:
    code = FakeCode(handler)
    return GatewayClient(Gateway(code, Verifier(), cors_allowed_origins=origins)), code  # type: ignore[arg-type]


def test_without_allowed_origins_a_preflight_is_the_405_and_nothing_says_cors() -> None:
    client, _ = gateway(origins=())

    preflight = client.options("/things", headers={"Origin": "http://localhost:3000"})
    missing = client.get("/nope", headers={"Origin": "http://localhost:3000"})

    assert preflight.status_code == 405
    assert not any(name.startswith("Access-Control") for name in [*preflight.headers.keys(), *missing.headers.keys()])


def test_a_preflight_lists_the_resources_methods_and_the_function_never_runs() -> None:
    client, code = gateway()

    response = client.options("/things", headers={"Origin": "http://localhost:3000"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS, POST"
    assert code.events == []


def test_the_gateway_leaves_a_functions_answer_as_the_function_gave_it() -> None:
    # Deployed, API Gateway adds no CORS header to a proxy integration's answer: the function must.
    client, _ = gateway()

    response = client.get("/things/t-1", headers={"Origin": "http://localhost:3000"})

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_compressed_answer_declares_the_length_it_is_sent_with() -> None:
    client, _ = gateway(handler=lambda event, context: {"statusCode": 200, "body": BIG.decode()})

    response = requests.get(f"{client.url}/things/t-1", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60)
    sent = response.raw.read(decode_content=False)

    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) == len(sent) < len(BIG)
    assert gzip.decompress(sent) == BIG


def test_a_chunked_body_over_10_mb_is_413_and_the_function_never_runs() -> None:
    client, code = gateway()

    # A generator is sent chunked: no Content-Length to refuse it by, the gateway counts what arrives (all of it
    # is sent before the answer, so that the client is not writing when the gateway closes the connection).
    chunks = (b" " * size for size in [1024 * 1024] * 10 + [1])
    response = client.post(
        "/things",
        data=chunks,
        headers={"Authorization": "Bearer good", "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json["message"] == "Request Too Large"
    assert code.events == []


def test_an_event_over_6_mb_is_refused_counting_what_lambda_is_sent() -> None:
    event = {"body": "x" * (6 * 1024 * 1024)}

    with pytest.raises(edge.Refused) as refused:
        edge.invocation_payload(event)

    assert refused.value.response.status == 413
    edge.invocation_payload({"body": "x" * (6 * 1024 * 1024 - 100)})


def test_the_error_body_has_the_shared_shape() -> None:
    body = json.loads(edge.error_body("Request-URI Too Long"))

    assert body["message"] == "Request-URI Too Long" and body["requestId"]
