"""Calls to the users function as API Gateway makes them (a form arrives base64-encoded), and a look at what the
bucket and the table hold afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedded_stack.apigateway.events import lambda_context, proxy_event
from embedded_stack.provision import Provisioned
from lambdas import catalog
from lambdas.shared.aws import client
from lambdas.users.handler import lambda_handler
from testkit import CALLER_CLAIMS, HttpResult, call, images

ADMIN_CLAIMS = {"sub": "a1a1a1a1-2b2b-4c3c-8d4d-e5e5e5e5e5e5", "email": "admin@example.com", "cognito:groups": "admins"}
OTHER_CLAIMS = {"sub": "9d8c7b6a-5f4e-4d3c-8b2a-1a0b9c8d7e6f", "email": "other@example.com", "token_use": "id"}


def post_form(
    body: bytes | str | None,
    content_type: str | None,
    claims: dict[str, str] = CALLER_CLAIMS,
    binary: bool = True,
    base64_flag: bool | None = None,
) -> HttpResult:
    """POST /user as API Gateway sends it: the body base64-encoded, multipart/form-data being a binary type."""
    headers = {"Content-Type": content_type} if content_type else {}
    event = proxy_event("POST", "/user", resource="/user", body=body, binary=binary, headers=headers, claims=claims)
    if base64_flag is not None:
        event["isBase64Encoded"] = base64_flag
    result = lambda_handler(event, lambda_context("users"))
    headers = dict(result.get("headers") or {})
    headers |= {name: ", ".join(values) for name, values in (result.get("multiValueHeaders") or {}).items()}
    return HttpResult(result["statusCode"], headers, result.get("body") or "")


def create(claims: dict[str, str] = CALLER_CLAIMS, **fields: Any) -> HttpResult:
    fields.setdefault("avatar", images.png())
    body, content_type = images.form(**fields)
    return post_form(body, content_type, claims)


def created(claims: dict[str, str] = CALLER_CLAIMS, **fields: Any) -> dict[str, Any]:
    result = create(claims, **fields)
    assert result.status == 201, result.body
    return result.json()


def get(user_id: str, claims: dict[str, str] = CALLER_CLAIMS) -> HttpResult:
    return call("GET", f"/users/{user_id}", claims=claims)


def objects(aws: Provisioned) -> dict[str, bytes]:
    s3 = client("s3")
    bucket = aws.buckets[catalog.AVATARS_BUCKET.name]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def items(aws: Provisioned) -> list[dict[str, Any]]:
    """Every item of the users table (a Scan, for the test's eyes only)."""
    return client("dynamodb").scan(TableName=aws.tables[catalog.USERS_TABLE.name])["Items"]


class Died(BaseException):
    """The Lambda container dying mid-request: no `except Exception`, no clean-up code runs past it."""


class Failures:
    """`failures(service, operation, error)`: that AWS call raises `error` (a ClientError by default, an exception
    class, or a callable run instead of the call) before it reaches AWS. `clear()` heals everything."""

    def __init__(self) -> None:
        self._registered: list[tuple[Any, str, Callable[..., None]]] = []

    def __call__(self, service: str, operation: str, error: Any = None, *, once: bool = False) -> None:
        aws_client = client(service)
        event = f"before-call.{aws_client.meta.service_model.endpoint_prefix}.{operation}"

        def raise_error(**_: Any) -> None:
            if once:
                aws_client.meta.events.unregister(event, raise_error)
            if error is None:
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, operation)
            if isinstance(error, type) and issubclass(error, BaseException):
                raise error()
            error()

        aws_client.meta.events.register(event, raise_error)
        self._registered.append((aws_client, event, raise_error))

    def clear(self) -> None:
        for aws_client, event, handler in self._registered:
            aws_client.meta.events.unregister(event, handler)
        self._registered.clear()


@pytest.fixture
def s3_as_aws_answers_the_role(aws: Provisioned) -> Iterator[None]:
    """S3 as it answers the users function's role on AWS: that role may not s3:ListBucket, so a missing key is a 403
    (CopyObject: AccessDenied; HeadObject, which has no body: "403"), where moto answers 404 (NoSuchKey; "404").
    The answer is rewritten as it arrives, before botocore raises it; the calls themselves reach moto unchanged."""
    s3 = client("s3")
    answers = {"NoSuchKey": ("AccessDenied", "Access Denied"), "404": ("403", "Forbidden")}

    def deny_missing_keys(parsed: dict[str, Any], **_: Any) -> None:
        error = parsed.get("Error", {})
        if error.get("Code") in answers:
            error["Code"], error["Message"] = answers[error["Code"]]
            error.pop("Key", None)  # AWS names no key it would not admit exists
            parsed["ResponseMetadata"]["HTTPStatusCode"] = 403

    events = [f"after-call.s3.{operation}" for operation in ("CopyObject", "HeadObject", "GetObject")]
    for event in events:
        s3.meta.events.register(event, deny_missing_keys)
    yield
    for event in events:
        s3.meta.events.unregister(event, deny_missing_keys)


@pytest.fixture
def fail(aws: Provisioned) -> Iterator[Failures]:
    failures = Failures()
    yield failures
    failures.clear()
