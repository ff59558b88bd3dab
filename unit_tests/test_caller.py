from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from embedded_stack.apigateway.events import lambda_context, proxy_event
from lambdas.catalog import PROTECTED
from lambdas.shared.api import resolver
from lambdas.shared.caller import Caller, caller_from_claims, current_caller
from lambdas.shared.errors import Unauthorized

SUB = "0f3c2a56-7e8b-4c1d-9a2b-3c4d5e6f7a8b"


@pytest.mark.parametrize(
    ("claims", "caller"),
    [
        ({"sub": SUB, "email": "ada@example.com"}, Caller(SUB, "ada@example.com", ())),
        ({"sub": SUB, "cognito:groups": "admins"}, Caller(SUB, None, ("admins",))),
        ({"sub": SUB, "cognito:groups": "admins,ops"}, Caller(SUB, None, ("admins", "ops"))),
        ({"sub": SUB, "cognito:groups": " admins , ops ,"}, Caller(SUB, None, ("admins", "ops"))),
        ({"sub": SUB, "cognito:groups": ""}, Caller(SUB, None, ())),
        ({"sub": SUB, "cognito:groups": ["admins", "ops"]}, Caller(SUB, None, ("admins", "ops"))),
        ({"sub": SUB, "email": ""}, Caller(SUB, None, ())),
    ],
)
def test_caller_from_claims(claims: dict[str, Any], caller: Caller) -> None:
    assert caller_from_claims(claims) == caller


@pytest.mark.parametrize("claims", [None, {}, {"email": "ada@example.com"}, {"sub": ""}, {"sub": "  "}])
def test_no_subject_is_unauthorized(claims: dict[str, Any] | None) -> None:
    with pytest.raises(Unauthorized):
        caller_from_claims(claims)


def test_in_group() -> None:
    caller = Caller(SUB, None, ("admins",))

    assert caller.in_group("admins")
    assert not caller.in_group("admin")


def whoami_app() -> APIGatewayRestResolver:
    app = resolver()

    @app.get("/whoami", security=PROTECTED)
    def whoami() -> dict[str, Any]:
        caller = current_caller(app)
        return {"sub": caller.sub, "email": caller.email, "groups": list(caller.groups)}

    return app


def test_current_caller_reads_the_authorizers_claims() -> None:
    claims = {"sub": SUB, "email": "ada@example.com", "cognito:groups": "admins,ops", "token_use": "id"}
    event = proxy_event("GET", "/whoami", claims=claims)

    result = whoami_app().resolve(event, lambda_context("whoami"))

    assert result["statusCode"] == 200
    assert (
        result["body"]
        == '{"sub":"0f3c2a56-7e8b-4c1d-9a2b-3c4d5e6f7a8b","email":"ada@example.com","groups":["admins","ops"]}'
    )


def test_without_claims_the_route_answers_401() -> None:
    event = proxy_event("GET", "/whoami", request_id="request-1")

    result = whoami_app().resolve(event, lambda_context("whoami"))

    assert result["statusCode"] == 401
    assert '"requestId":"request-1"' in result["body"]
