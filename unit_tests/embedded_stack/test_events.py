from __future__ import annotations

import base64
import re
import time
import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from embedded_stack.apigateway.events import lambda_context, new_request_id, proxy_event


def full_event() -> dict:
    return proxy_event(
        "GET",
        "/tenants/abc",
        resource="/tenants/{tenantId}",
        headers={"Host": "api.example", "User-Agent": "curl/8", "X-Tag": ["a", "b"]},
        query={"limit": "10", "tag": ["x", "y"]},
        path_parameters={"tenantId": "abc"},
        claims={"sub": "user-1", "email": "u@example.com"},
        stage="dev",
        request_id="req-1",
        source_ip="10.1.2.3",
    )


def test_event_matches_powertools_rest_proxy_model() -> None:
    model = APIGatewayProxyEventModel.model_validate(full_event())

    assert model.resource == "/tenants/{tenantId}"
    assert model.requestContext.requestId == "req-1"
    assert model.requestContext.stage == "dev"
    assert model.requestContext.resourcePath == "/tenants/{tenantId}"
    assert str(model.requestContext.identity.sourceIp) == "10.1.2.3/32"
    assert model.pathParameters == {"tenantId": "abc"}


def test_repeated_headers_and_query_values_keep_the_last_in_single_value_maps() -> None:
    event = full_event()

    assert event["headers"]["X-Tag"] == "b"
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["queryStringParameters"] == {"limit": "10", "tag": "y"}
    assert event["multiValueQueryStringParameters"]["tag"] == ["x", "y"]
    assert event["requestContext"]["authorizer"]["claims"]["sub"] == "user-1"
    assert event["requestContext"]["domainName"] == "api.example"
    assert event["requestContext"]["identity"]["userAgent"] == "curl/8"


def test_absent_parts_are_null_as_api_gateway_sends_them() -> None:
    event = proxy_event("GET", "/health")

    assert event["headers"] == {} and event["multiValueHeaders"] == {}
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None and event["body"] is None
    assert event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]
    APIGatewayProxyEventModel.model_validate(event)


def test_binary_bodies_are_base64_and_text_bodies_are_not() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    binary = proxy_event("POST", "/users", body=png, binary=True)
    text = proxy_event("POST", "/users", body='{"a": "é"}'.encode())
    text_as_binary = proxy_event("POST", "/users", body="abc", binary=True)

    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == png
    assert text["isBase64Encoded"] is False and text["body"] == '{"a": "é"}'
    assert base64.b64decode(text_as_binary["body"]) == b"abc"


def test_lambda_context_counts_down() -> None:
    context = lambda_context("tenants")

    remaining = context.get_remaining_time_in_millis()
    time.sleep(0.01)

    assert 28_000 < context.get_remaining_time_in_millis() < remaining <= 29_000
    assert context.invoked_function_arn.endswith(":function:tenants")
    assert context.log_group_name == "/aws/lambda/tenants"
    assert "[$LATEST]" in context.log_stream_name


def test_a_text_body_that_is_not_utf8_is_passed_on_with_replacement_characters() -> None:
    # API Gateway hands a non-binary body to Lambda as text: invalid sequences become U+FFFD, never an error.
    event = proxy_event("POST", "/things", body=b'{"name": "\xff\xfe"}', binary=False)

    assert event["body"] == '{"name": "\ufffd\ufffd"}'
    assert event["isBase64Encoded"] is False


def test_request_ids_are_version_4_uuids_each_new() -> None:
    ids = [new_request_id() for _ in range(2000)]

    assert len(set(ids)) == len(ids)
    for request_id in ids:
        parsed = uuid.UUID(request_id)
        assert (str(parsed), parsed.version, parsed.variant) == (request_id, 4, uuid.RFC_4122)
    assert (
        proxy_event("GET", "/x")["requestContext"]["requestId"]
        != proxy_event("GET", "/x")["requestContext"]["requestId"]
    )


def test_the_request_time_is_api_gateways_clf_format_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    context = proxy_event("GET", "/x")["requestContext"]
    after = datetime.now(UTC)

    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["requestTime"])
    assert before <= datetime.strptime(context["requestTime"], "%d/%b/%Y:%H:%M:%S %z") <= after
    assert before.timestamp() * 1000 <= context["requestTimeEpoch"] <= after.timestamp() * 1000
