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
import functools
import gzip
import json
import socket
import threading
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from werkzeug.datastructures import Headers
from werkzeug.http import parse_accept_header, parse_options_header, parse_set_header
from werkzeug.sansio.utils import get_content_length

from embedded_stack.apigateway.events import new_request_id
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


class HttpRequest:
    """A request's line and headers as the gateway reads them (the body is read apart, by `read_body`).

    Header names are as a WSGI server gives them (`User-Agent`, `X-Amz-Date`), a repeated header's values joined
    with commas.
    """

    def __init__(
        self, method: str, path: str, query_string: bytes, headers: dict[str, tuple[str, str]], client_ip: str
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.client_ip = client_ip
        self._headers = headers  # by the name's key (`USER_AGENT`): (name, value)
        self.content_length = get_content_length(self.header("Content-Length"), self.header("Transfer-Encoding"))

    def header(self, name: str) -> str | None:
        entry = self._headers.get(_header_key(name))
        return entry[1] if entry else None

    def headers(self) -> list[tuple[str, str]]:
        return list(self._headers.values())

    # Properties, not cached ones: each is read once a request, so a cache would only add its own cost.
    @property
    def mimetype(self) -> str:
        return parse_options_header(self.header("Content-Type"))[0].lower()

    @property
    def args(self) -> list[tuple[str, str]]:
        """The query's parameters in order; a value that is not UTF-8 stays percent-encoded."""
        return parse_qsl(self.query_string.decode(), keep_blank_values=True, errors="werkzeug.url_quote")

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string.decode('latin-1')}" if self.query_string else self.path


@functools.lru_cache(maxsize=512)
def _header_key(name: str) -> str:
    return name.upper().replace("-", "_")


@functools.lru_cache(maxsize=512)
def _header_name(key: str) -> str:
    return key.replace("_", "-").title()


def request_from(scope: MutableMapping[str, Any]) -> HttpRequest:
    """The request of an ASGI HTTP scope, without its body (`read_body` reads it)."""
    headers: dict[str, tuple[str, str]] = {}
    for raw_name, raw_value in scope["headers"]:
        key, value = _header_key(raw_name.decode("latin-1")), raw_value.decode("latin-1")
        if key in headers:
            headers[key] = (headers[key][0], f"{headers[key][1]},{value}")
        elif value or key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            headers[key] = (_header_name(key), value)
    client = scope.get("client")
    return HttpRequest(
        scope["method"],
        "/" + scope["path"].lstrip("/"),
        scope["query_string"],
        headers,
        client[0] if client else "127.0.0.1",
    )


class HttpResponse:
    """An answer to send: a status, headers (werkzeug's, which refuse a value with a line break) and a body."""

    def __init__(
        self,
        status_code: int,
        data: bytes = b"",
        headers: Headers | dict[str, str] | None = None,
        from_function: bool = False,
    ) -> None:
        self.status_code = status_code
        self.data = data
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.from_function = from_function  # a function's answer, passed on as it gave it


async def read_body(request: HttpRequest, receive: Callable[[], Awaitable[MutableMapping[str, Any]]]) -> bytes | None:
    """The request's body, or None without one; Refused when it is too large or stops arriving."""
    declared = request.content_length
    chunked = "chunked" in (request.header("Transfer-Encoding") or "").lower()
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


def check_declared_length(request: HttpRequest) -> None:
    """Refused when the declared body is over API Gateway's quota: the first thing API Gateway checks."""
    if (request.content_length or 0) > API_GATEWAY_PAYLOAD_LIMIT:
        raise Refused(catalog.REQUEST_TOO_LARGE)


def invocation_payload(event: dict[str, Any]) -> bytes:
    """`event` as the JSON Lambda is invoked with; Refused when Lambda would reject it as a synchronous
    invocation's payload."""
    payload = orjson.dumps(event)  # compact UTF-8, as json.dumps(separators=(",", ":"), ensure_ascii=False) writes it
    if len(payload) > LAMBDA_PAYLOAD_LIMIT:
        raise Refused(catalog.REQUEST_TOO_LARGE)
    return payload


def compress(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Compresses `response` in place as API Gateway's `minimumCompressionSize` does, when the client accepts it."""
    if len(response.data) < catalog.MINIMUM_COMPRESSION_SIZE or response.headers.get("Content-Encoding"):
        return response
    accepted = parse_accept_header(request.header("Accept-Encoding"))
    if accepted.quality("gzip") > 0:
        response.data = gzip.compress(response.data, compresslevel=6, mtime=0)
        response.headers["Content-Encoding"] = "gzip"
    elif accepted.quality("deflate") > 0:
        response.data = zlib.compress(response.data, 6)
        response.headers["Content-Encoding"] = "deflate"
    else:
        return response
    varies = parse_set_header(response.headers.get("Vary"))
    varies.add("Accept-Encoding")
    response.headers["Vary"] = varies.to_header()
    return response


def error_body(message: str) -> bytes:
    return json.dumps({"message": message, "requestId": new_request_id()}, separators=(",", ":")).encode()


async def send_response(send: Callable[[MutableMapping[str, Any]], Awaitable[None]], response: HttpResponse) -> None:
    response.headers["Content-Length"] = str(len(response.data))
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.data})


class CoalescedWrites:
    """A connection's transport whose writes reach the socket as one when a response is complete (or at the end of
    the event loop's turn).

    uvicorn writes a response's head and its body separately: two system calls and two TCP segments, the first of
    which may wake the client for half an answer (docs/benchmarks.md measures what one write saves).
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class EdgeProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with the limits on the request line and headers, refusals in the JSON shape
    (uvicorn's own are plain text), and a response written at once."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._writes = CoalescedWrites(transport)
        super().connection_made(cast(asyncio.Transport, self._writes))

    def on_response_complete(self) -> None:
        self._writes.flush()  # the answer goes now, before the gateway writes its access line
        super().on_response_complete()

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
    """An ASGI application served by uvicorn in an event loop of its own thread, as the stack serves the gateway
    (`http=EdgeProtocol`, the default) and moto (uvicorn's own HTTP/1.1 protocol: no API Gateway limits there)."""

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        listening: socket.socket,
        stop_seconds: float,
        http: type[asyncio.Protocol] | str = EdgeProtocol,
        name: str = "api-gateway",
    ) -> None:
        config = uvicorn.Config(
            app,
            http=http,
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
        self.thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listening]}, name=name, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stops serving (uvicorn looks every 0.1 s) and closes the listening socket."""
        self._server.should_exit = True
        self.thread.join(timeout=5)
