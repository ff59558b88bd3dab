"""The HTTP edge of the embedded API Gateway: reading requests and writing answers as API Gateway's front door does.

- A body over API Gateway's 10 MB payload quota is a 413, decided from `Content-Length` before reading any of it
  (a chunked body is read up to the quota, never further into memory).
- An event that would exceed Lambda's 6 MB synchronous invocation payload is a 413 before any function runs: the
  body counts as it reaches Lambda, base64-encoded for a binary media type.
- A client that stops sending before its declared `Content-Length` gets a 408 after `READ_TIMEOUT_SECONDS` of
  silence, not a thread held for minutes.
- The server's own refusals (a 414 request line, 431 headers) are the JSON error shape, and no answer names the
  server software (`Server: Werkzeug/...`).
- An answer is compressed (gzip or deflate) when the client accepts it and its body has at least
  `MINIMUM_COMPRESSION_SIZE` bytes, as the REST API's `minimumCompressionSize` does.
"""

from __future__ import annotations

import gzip
import json
import zlib
from http import HTTPStatus
from typing import Any
from uuid import uuid4

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from lambdas import catalog
from lambdas.catalog import GatewayResponse

API_GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
READ_TIMEOUT_SECONDS = 5.0


class EdgeResponse(GatewayResponse):
    """An answer of the HTTP server in front of API Gateway (the connection itself), not a Gateway Response type."""

    def __post_init__(self) -> None:
        pass

    @property
    def status(self) -> int:
        return int(self.status_code or HTTPStatus.BAD_REQUEST)


REQUEST_TIMEOUT = EdgeResponse("REQUEST_TIMEOUT", "Request Timeout", HTTPStatus.REQUEST_TIMEOUT)
_CHUNK = 64 * 1024


class Refused(Exception):
    """The edge answers `response` itself; no function runs."""

    def __init__(self, response: GatewayResponse) -> None:
        super().__init__(response.message)
        self.response = response


def read_body(request: Request) -> bytes | None:
    """The request's body, or None without one; Refused when it is too large or stops arriving."""
    declared = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not declared and not chunked:
        return None
    check_declared_length(request)
    parts: list[bytes] = []
    received = 0
    try:
        while chunk := request.stream.read(_CHUNK):
            received += len(chunk)
            if received > API_GATEWAY_PAYLOAD_LIMIT:
                raise Refused(catalog.REQUEST_TOO_LARGE)
            parts.append(chunk)
    except ClientDisconnected:
        # Werkzeug's word for a body that ended, or stopped arriving for READ_TIMEOUT_SECONDS, before its
        # declared length: either way no complete request will come.
        raise Refused(REQUEST_TIMEOUT) from None
    return b"".join(parts) or None


def check_declared_length(request: Request) -> None:
    """Refused when the declared body is over API Gateway's quota: the first thing API Gateway checks."""
    if (request.content_length or 0) > API_GATEWAY_PAYLOAD_LIMIT:
        raise Refused(catalog.REQUEST_TOO_LARGE)


def check_invocation_payload(event: dict[str, Any]) -> None:
    """Refused when Lambda would reject `event` as a synchronous invocation's payload."""
    if len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) > LAMBDA_PAYLOAD_LIMIT:
        raise Refused(catalog.REQUEST_TOO_LARGE)


def compress(request: Request, response: Response) -> Response:
    """Compresses `response` in place as API Gateway's `minimumCompressionSize` does, when the client accepts it."""
    if response.headers.get("Content-Encoding") or response.direct_passthrough:
        return response
    body = response.get_data()
    if len(body) < catalog.MINIMUM_COMPRESSION_SIZE:
        return response
    accepted = request.accept_encodings
    if accepted.quality("gzip") > 0:
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    elif accepted.quality("deflate") > 0:
        response.set_data(zlib.compress(body, 6))
        response.headers["Content-Encoding"] = "deflate"
    else:
        return response
    response.vary.add("Accept-Encoding")
    return response


def error_body(message: str) -> bytes:
    return json.dumps({"message": message, "requestId": str(uuid4())}, separators=(",", ":")).encode()


class EdgeRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler with a read timeout, JSON refusals, and no `Server` header."""

    timeout = READ_TIMEOUT_SECONDS

    def send_response(self, code: int, message: str | None = None) -> None:
        # BaseHTTPRequestHandler's own adds `Server: Werkzeug/<version> Python/<version>`.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answers the requests http.server refuses before any WSGI code runs (414, 431, 400) in the JSON shape."""
        status = HTTPStatus(code)
        body = error_body(status.phrase)
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, status.phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= HTTPStatus.OK and code not in (HTTPStatus.NO_CONTENT, 304):
            self.wfile.write(body)
