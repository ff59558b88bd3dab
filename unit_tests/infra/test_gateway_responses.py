"""The deployed Gateway Responses (infra/api.py) and the embedded gateway's answers are one table: the catalog's."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from embedded_stack.apigateway.authorizer import AuthorizationError
from embedded_stack.apigateway.gateway import Gateway, gateway_response
from lambdas import catalog
from lambdas.catalog import AWS_DEFAULT_STATUS, Function, GatewayResponse, Route
from unit_tests.gateway_client import GatewayClient
from unit_tests.infra.conftest import Deployed

ECHO = Function(name="echo", description="answers 200, or fails when asked to")
ROUTES = (Route("GET", "/open", ECHO, public=True), Route("GET", "/closed", ECHO, public=False))


class Refusing:
    """An authorizer that refuses every token, or cannot run at all (`broken`)."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken

    def claims(self, authorization_header: str | None) -> dict[str, str]:
        if self.broken:
            raise ConnectionError("the user pool's keys are unreachable")
        raise AuthorizationError("no token")


class Code:
    def __init__(self, fails: bool) -> None:
        self.fails = fails

    def routes(self) -> tuple[Route, ...]:
        return ROUTES

    def handler(self, function: Function) -> Any:
        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            if self.fails:
                raise RuntimeError("boom")
            return {"statusCode": 200, "body": "{}"}

        return handle


def embedded(fails: bool = False, broken_authorizer: bool = False) -> GatewayClient:
    return GatewayClient(Gateway(Code(fails), Refusing(broken_authorizer)))  # type: ignore[arg-type]


def responses_of(deployed: Deployed) -> dict[str, dict[str, Any]]:
    """Response type → its `x-amazon-apigateway-gateway-responses` entry in the API's body."""
    return deployed.body()["x-amazon-apigateway-gateway-responses"]


def deployed_table(deployed: Deployed) -> dict[str, tuple[int | None, str]]:
    """Response type → (the status a client gets from the deployed API, the body's message template)."""
    table = {}
    for kind, response in responses_of(deployed).items():
        status = int(response["statusCode"]) if "statusCode" in response else AWS_DEFAULT_STATUS[kind]
        body = response["responseTemplates"]["application/json"]
        message = body.removeprefix('{"message":').removesuffix(',"requestId":"$context.requestId"}')
        table[kind] = (status, message)
    return table


def check_the_embedded_gateway_answers_the_deployed_table(deployed: Deployed) -> None:
    table = deployed_table(deployed)
    assert set(table) == {response.response_type for response in catalog.GATEWAY_RESPONSES}

    # The responses the embedded gateway is written to give, each as the deployed API gives it.
    for response in catalog.GATEWAY_RESPONSES:
        status, message = table[response.response_type]
        answered = gateway_response(response, "request-1")
        if status is not None:
            assert answered.status_code == status, response
        if message != catalog.AWS_MESSAGE:
            assert json.dumps(json.loads(answered.data)["message"]) == message, response

    # What the embedded gateway answers on its own, against the deployed table.
    not_found = embedded().get("/nowhere")
    assert not_found.status_code == table["MISSING_AUTHENTICATION_TOKEN"][0] == 404
    unauthorized = embedded().get("/closed")
    assert unauthorized.status_code == table["UNAUTHORIZED"][0] == 401
    assert json.dumps(unauthorized.json["message"]) == table["UNAUTHORIZED"][1]
    # DEFAULT_5XX keeps each error's own status on AWS: its own fault is a 500, a failing function a 502.
    assert table["DEFAULT_5XX"] == (None, catalog.AWS_MESSAGE)
    fault = embedded(broken_authorizer=True).get("/closed")
    assert (fault.status_code, fault.json["message"]) == (500, catalog.DEFAULT_5XX.message)
    failure = embedded(fails=True).get("/open")
    assert (failure.status_code, failure.json["message"]) == (catalog.LAMBDA_FAILURE_STATUS, "Internal server error")


def check_no_default_response_sets_a_status(deployed: Deployed) -> None:
    """AWS's rule (Gateway response types table, DEFAULT_4XX/DEFAULT_5XX): "changing the status code of this
    fallback gateway response changes the status codes of all other 4XX/5XX responses to the new value". A status
    on either would turn throttling's 429 into 400 and an integration timeout's 504 into 500."""
    responses = responses_of(deployed)
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert "statusCode" not in responses[kind], kind
        assert responses[kind]["responseTemplates"] == {
            "application/json": '{"message":$context.error.messageString,"requestId":"$context.requestId"}'
        }
    # The specific ones AWS answers itself, with their own codes (a status is set only where the catalog differs).
    expected = {"THROTTLED": 429, "REQUEST_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415, "INTEGRATION_TIMEOUT": 504}
    expected |= {"INTEGRATION_FAILURE": 504, "AUTHORIZER_FAILURE": 500, "UNAUTHORIZED": 401, "ACCESS_DENIED": 403}
    for kind, status in expected.items():
        assert "statusCode" not in responses[kind], kind
        assert AWS_DEFAULT_STATUS[kind] == status
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404


def check_the_error_shape(deployed: Deployed) -> None:
    responses = responses_of(deployed)
    assert set(responses) == {g.response_type for g in catalog.GATEWAY_RESPONSES}
    for declared in catalog.GATEWAY_RESPONSES:
        response = responses[declared.response_type]
        assert response.get("statusCode") == declared.status_code
        body = response["responseTemplates"]["application/json"]
        message = catalog.AWS_MESSAGE if declared.keeps_aws_message else f'"{declared.message}"'
        assert body == f'{{"message":{message},"requestId":"$context.requestId"}}'


def check_gateway_responses(deployed: Deployed) -> None:
    check_the_error_shape(deployed)
    check_no_default_response_sets_a_status(deployed)
    check_the_embedded_gateway_answers_the_deployed_table(deployed)


@pulumi.runtime.test
def test_defaults_keep_every_errors_own_status_and_the_embedded_gateway_answers_the_deployed_table(deploy):
    return deploy(check_gateway_responses)


@pytest.mark.parametrize("kind", ["DEFAULT_4XX", "DEFAULT_5XX"])
def test_the_catalog_refuses_a_status_on_the_default_responses(kind: str) -> None:
    with pytest.raises(ValueError, match="overrides every other"):
        GatewayResponse(kind, "Bad", status_code=400)


def test_the_catalog_refuses_a_response_type_api_gateway_does_not_have() -> None:
    with pytest.raises(ValueError, match="not an API Gateway gateway response type"):
        GatewayResponse("TEAPOT", "I'm a teapot")


def test_what_a_client_receives_from_each_catalog_response() -> None:
    statuses = {response.response_type: response.status for response in catalog.GATEWAY_RESPONSES}
    assert statuses == {
        "MISSING_AUTHENTICATION_TOKEN": 404,
        "UNAUTHORIZED": 401,
        "ACCESS_DENIED": 403,
        "DEFAULT_4XX": 400,
        "DEFAULT_5XX": 500,
        "THROTTLED": 429,
        "REQUEST_TOO_LARGE": 413,
        "UNSUPPORTED_MEDIA_TYPE": 415,
        "INTEGRATION_TIMEOUT": 504,
        "INTEGRATION_FAILURE": 504,
        "AUTHORIZER_FAILURE": 500,
        "AUTHORIZER_CONFIGURATION_ERROR": 500,
    }
