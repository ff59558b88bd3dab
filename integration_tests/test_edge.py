"""The HTTP edge as a client meets it: payload limits, slow bodies, the server's own refusals, CORS, compression."""

from __future__ import annotations

import gzip
import json
import socket
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest

from integration_tests.conftest import Api

MB = 1024 * 1024
LOCAL_ORIGIN = "http://localhost:5173"


def raw_exchange(api: Api, data: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Sends `data` as is on a fresh connection and reads the whole answer (the server closes the connection)."""
    url = urlsplit(api.base_url)
    with socket.create_connection((url.hostname, url.port or 80), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def assert_error_shape(body: Any, message: str) -> None:
    assert body["message"] == message
    assert body["requestId"]


def test_a_body_over_10_mb_is_413_before_the_gateway_reads_it(api: Api) -> None:
    # Only the headers are ever sent: the answer comes from the declared length alone.
    status, headers, body = raw_exchange(
        api,
        b"POST /auth/login HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 10485761\r\n\r\n",
    )

    assert status == 413
    assert headers["content-type"] == "application/json"
    assert_error_shape(json.loads(body), "Request Too Large")


def test_a_body_over_10_mb_sent_in_full_gets_the_413(api: Api) -> None:
    response = api.post("/auth/login", data=b" " * (10 * MB + 1), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert_error_shape(response.json(), "Request Too Large")


def test_an_event_over_lambdas_6_mb_is_413_counting_a_binary_body_base64_encoded(api: Api) -> None:
    # 4.7 MB of octet-stream reaches Lambda as 6.3 MB of base64: over the synchronous payload limit.
    binary = api.post("/auth/login", data=b"\0" * (47 * MB // 10), headers={"Content-Type": "application/octet-stream"})
    # The same size as text stays under it and reaches the function, which refuses it itself.
    text = api.post("/auth/login", data=b" " * (47 * MB // 10), headers={"Content-Type": "application/json"})

    assert binary.status_code == 413
    assert_error_shape(binary.json(), "Request Too Large")
    assert text.status_code == 400


def test_a_body_shorter_than_its_content_length_times_out_with_408(api: Api) -> None:
    status, _, body = raw_exchange(
        api,
        b"POST /auth/login HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}",
        timeout=20,  # the gateway's read timeout is 5 s; a hang would fail here, not after 60 s
    )

    assert status == 408
    assert_error_shape(json.loads(body), "Request Timeout")


def test_a_body_that_is_not_utf8_reaches_the_function_which_answers_400(api: Api) -> None:
    response = api.post("/auth/login", data=b'{"email": "\xff\xfe"', headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "is not valid JSON"}]


@pytest.mark.parametrize(
    ("request_bytes", "status", "message"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: api\r\n\r\n", 414, HTTPStatus.REQUEST_URI_TOO_LONG.phrase),
        (b"GET /health HTTP/1.1\r\nHost: api\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n", 431, None),
        (b"GET /health HTTP/1.1\r\nHost: api\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431, None),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 (TLS spoken to plain HTTP)\r\n\r\n", 400, "Bad Request"),
    ],
    ids=["long-request-line", "too-many-headers", "long-header", "not-http"],
)
def test_the_servers_own_refusals_are_json_without_a_server_header(
    api: Api, request_bytes: bytes, status: int, message: str | None
) -> None:
    answered, headers, body = raw_exchange(api, request_bytes)

    assert answered == status
    assert headers["content-type"] == "application/json"
    assert_error_shape(json.loads(body), message or "Request Header Fields Too Large")
    assert "server" not in headers


def test_no_answer_names_the_server_software(api: Api) -> None:
    assert "Server" not in api.get("/health").headers
    assert "Server" not in api.get("/no/such/route").headers


def test_a_large_answer_is_gzipped_when_the_client_accepts_it(api: Api) -> None:
    document = api.get("/openapi.json", headers={"Accept-Encoding": "gzip"}, stream=True)
    raw = document.raw.read(decode_content=False)

    assert document.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in document.headers["Vary"]
    assert gzip.decompress(raw).startswith(b"{")


def test_an_answer_is_identity_when_the_client_asks_so_or_it_is_small(api: Api) -> None:
    identity = api.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    small = api.get("/health", headers={"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in identity.headers and identity.json()["openapi"]
    assert "Content-Encoding" not in small.headers


# --- CORS -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000"])
def test_a_preflight_from_an_allowed_origin_is_answered(api: Api, origin: str) -> None:
    response = api.options(
        "/tenants",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost:1.evil.example", "null"])
def test_a_preflight_from_another_origin_gets_no_allow_origin(api: Api, origin: str) -> None:
    response = api.options("/tenants", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_function_answer_carries_cors_headers_for_an_allowed_origin(api: Api, auth_headers: dict[str, str]) -> None:
    ok = api.get("/health", headers={"Origin": LOCAL_ORIGIN})
    refused = api.post("/auth/login", json={}, headers={"Origin": LOCAL_ORIGIN})
    other = api.get("/health", headers={"Origin": "https://evil.example"})

    assert ok.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
    assert "Location" in ok.headers["Access-Control-Expose-Headers"]
    assert refused.status_code == 400 and refused.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/tenants/t-1", 401), ("GET", "/no/such", 404)])
def test_a_gateway_answer_is_readable_by_an_allowed_origin(api: Api, method: str, path: str, status: int) -> None:
    response = api.request(method, path, headers={"Origin": LOCAL_ORIGIN})

    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == LOCAL_ORIGIN
