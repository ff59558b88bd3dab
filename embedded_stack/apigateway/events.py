"""API Gateway REST (v1) proxy events and Lambda contexts, as the real services build them."""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
API_ID = "embedded"
DEFAULT_STAGE = "local"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Multi = Mapping[str, str | Sequence[str]]


def proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: bytes | str | None = None,
    binary: bool = False,
    headers: Multi | None = None,
    query: Multi | None = None,
    path_parameters: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | None = None,
    stage: str = DEFAULT_STAGE,
    request_id: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event API Gateway sends a Lambda proxy integration for one request.

    `resource` is the matched route path (``/tenants/{tenantId}``); `path` the request's. Headers and query
    parameters may repeat: single-value maps keep the last value, as API Gateway does. A binary body is
    base64-encoded, as API Gateway does for a request whose content type is a binary media type; any other body is
    text, whatever bytes were sent.
    """
    multi_headers = _multi(headers)
    multi_query = _multi(query)
    now = datetime.now(UTC)
    request_id = request_id or new_request_id()
    host = next((values[-1] for name, values in multi_headers.items() if name.lower() == "host"), "localhost")
    user_agent = next((values[-1] for name, values in multi_headers.items() if name.lower() == "user-agent"), None)
    if isinstance(body, bytes):
        # API Gateway passes a text body on as UTF-8, each invalid byte sequence replaced by U+FFFD.
        body = base64.b64encode(body).decode("ascii") if binary else body.decode("utf-8", errors="replace")
    elif body is not None and binary:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    # English, whatever the locale, and without strftime (which costs more than the rest of the event)
    request_time = (
        f"{now.day:02}/{MONTHS[now.month - 1]}/{now.year}:{now.hour:02}:{now.minute:02}:{now.second:02} +0000"
    )
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "extendedRequestId": request_id,
        "httpMethod": method,
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": source_ip,
            "user": None,
            "userAgent": user_agent,
            "userArn": None,
        },
        "path": path,
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": request_time,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "resourceId": "local",
        "resourcePath": resource or path,
        "stage": stage,
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        # A real request always has headers (Host, at least), so these are never null.
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": binary and body is not None,
    }


def new_request_id() -> str:
    """A request id as API Gateway and Lambda write them: a version 4 UUID. From `random`, not `uuid.uuid4`: an id
    names a request and guards nothing, and uuid4 makes a system call (os.urandom) for each."""
    bits = random.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _multi(values: Multi | None) -> dict[str, list[str]]:
    return {name: [value] if isinstance(value, str) else list(value) for name, value in (values or {}).items()}


@dataclass
class LambdaContext:
    """The context object the Lambda runtime passes a Python handler."""

    function_name: str
    timeout_seconds: float = 29.0  # API Gateway's integration timeout
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=new_request_id)
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{datetime.now(UTC):%Y/%m/%d}/[{self.function_version}]embedded"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(function_name: str) -> LambdaContext:
    return LambdaContext(function_name=function_name)
