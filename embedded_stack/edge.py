"""The HTTP edge of the embedded API Gateway: reading requests and writing answers as API Gateway's front door does.

- A body over API Gateway's 10 MB payload quota is a 413, decided from `Content-Length` before reading any of it
  (a chunked body is read up to the quota, never further into memory).
- An event that would exceed Lambda's 6 MB synchronous invocation payload is a 413 before any function runs: the
  body counts as it reaches Lambda, base64-encoded for a binary media type.
- A client that stops sending before its declared `Content-Length` gets a 408 after `READ_TIMEOUT_SECONDS` of
  silence, not a request held for minutes.
- The server's own refusals (a 414 request line, 431 headers, 400 for what is not HTTP) are the JSON error shape,
  and no answer names the server software.
- An answer is compressed (gzip or deflate) when the client accepts it and its body has at least
  `MINIMUM_COMPRESSION_SIZE` bytes, as the REST API's `minimumCompressionSize` does.

The server is uvicorn's HTTP/1.1 protocol (httptools), with keep-alive; `EdgeProtocol` adds the limits.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import threading
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from uuid import uuid4

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from werkzeug.wrappers import Request, Response

from lambdas import catalog
from lambdas.catalog import GatewayResponse

API_GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
READ_TIMEOUT_SECONDS = 5.0
# Limits on the request line and the headers, as Python's http.server sets them.
LONGEST_REQUEST_LINE = 65536
LONGEST_HEADER_LINE = 65536
MOST_HEADERS = 100


class EdgeResponse(GatewayResponse):
    """An answer of the HTTP server in front of API Gateway (the connection itself), not a Gateway Response type."""

    def __post_init__(self) -> None:
        pass

    @property
    def status(self) -> int:
        return int(self.status_code or HTTPStatus.BAD_REQUEST)


REQUEST_TIMEOUT = EdgeResponse("REQUEST_TIMEOUT", "Request Timeout", HTTPStatus.REQUEST_TIMEOUT)


class Refused(Exception):
    """The edge answers `response` itself; no function runs."""

    def __init__(self, response: GatewayResponse) -> None:
        super().__init__(response.message)
        self.response = response


def request_from(scope: MutableMapping[str, Any]) -> Request:
    """The request of an ASGI HTTP scope, without its body (`read_body` reads it)."""
    host, port = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        # WSGI's text is the bytes as latin-1; werkzeug decodes the path as UTF-8 again.
        "PATH_INFO": scope["path"].encode("utf-8", errors="surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "REMOTE_ADDR": client[0] if client else "127.0.0.1",
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(),
    }
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").upper().replace("-", "_"), raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return Request(environ)


async def read_body(request: Request, receive: Callable[[], Awaitable[MutableMapping[str, Any]]]) -> bytes | None:
    """The request's body, or None without one; Refused when it is too large or stops arriving."""
    declared = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not declared and not chunked:
        return None
    check_declared_length(request)
    parts: list[bytes] = []
    received = 0
    more = True
    while more:
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                message = await receive()
        except TimeoutError:
            raise Refused(REQUEST_TIMEOUT) from None
        if message["type"] == "http.disconnect":
            # The body ended before its declared length: no complete request will come.
            raise Refused(REQUEST_TIMEOUT)
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > API_GATEWAY_PAYLOAD_LIMIT:
            raise Refused(catalog.REQUEST_TOO_LARGE)
        parts.append(chunk)
        more = message.get("more_body", False)
    return b"".join(parts) or None


def check_declared_length(request: Request) -> None:
    """Refused when the declared body is over API Gateway's quota: the first thing API Gateway checks."""
    if (request.content_length or 0) > API_GATEWAY_PAYLOAD_LIMIT:
        raise Refused(catalog.REQUEST_TOO_LARGE)


def invocation_payload(event: dict[str, Any]) -> bytes:
    """`event` as the JSON Lambda is invoked with; Refused when Lambda would reject it as a synchronous
    invocation's payload."""
    payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(payload) > LAMBDA_PAYLOAD_LIMIT:
        raise Refused(catalog.REQUEST_TOO_LARGE)
    return payload


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


async def send_response(send: Callable[[MutableMapping[str, Any]], Awaitable[None]], response: Response) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.get_data()})


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with the limits on the request line and headers, and refusals in the JSON shape
    (uvicorn's own are plain text)."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refusal: HTTPStatus | None = None

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > LONGEST_REQUEST_LINE:
            self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MOST_HEADERS or len(name) + len(value) > LONGEST_HEADER_LINE:
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        super().on_header(name, value)

    def _refuse(self, status: HTTPStatus) -> None:
        self._refusal = status
        raise ValueError(status.phrase)  # stops the parser: uvicorn answers its error with send_400_response

    def send_400_response(self, msg: str) -> None:
        status = getattr(self, "_refusal", None) or HTTPStatus.BAD_REQUEST
        body = error_body(status.phrase)
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)
        self.transport.close()


class Serving:
    """An ASGI application served by uvicorn in an event loop of its own thread, as the stack serves the gateway."""

    def __init__(self, app: Callable[..., Awaitable[None]], listening: socket.socket, stop_seconds: float) -> None:
        config = uvicorn.Config(
            app,
            http=EdgeProtocol,
            loop="uvloop",
            ws="none",
            lifespan="off",
            log_config=None,  # the stack's logging stays as `make run` set it
            access_log=False,  # the gateway logs its own line a request
            server_header=False,
            proxy_headers=False,  # no proxy in front: the client's own address is the source IP
            # Requests still in flight when the stack stops get this long (Ctrl-C returns within a second).
            timeout_graceful_shutdown=stop_seconds,
        )
        self.port = int(listening.getsockname()[1])
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listening]}, name="api-gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stops serving (uvicorn looks every 0.1 s) and closes the listening socket."""
        self._server.should_exit = True
        self._thread.join(timeout=5)
