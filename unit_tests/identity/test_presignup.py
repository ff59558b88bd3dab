from __future__ import annotations

import copy
from typing import Any

import pytest

from embedded_stack.apigateway.events import lambda_context
from lambdas import catalog
from lambdas.presignup.handler import lambda_handler


def pre_sign_up_event(attributes: dict[str, str], source: str = "PreSignUp_SignUp") -> dict[str, Any]:
    """As Cognito sends it (developer guide, "Pre sign-up Lambda trigger")."""
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_example",
        "userName": "4b8e6f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client"},
        "triggerSource": source,
        "request": {"userAttributes": attributes, "validationData": None},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }


@pytest.mark.parametrize("source", ["PreSignUp_SignUp", "PreSignUp_AdminCreateUser"])
def test_a_sign_up_with_an_email_is_confirmed_and_verified(source: str) -> None:
    event = pre_sign_up_event({"email": "ada@example.com", "name": "Ada"}, source)
    sent = copy.deepcopy(event)

    returned = lambda_handler(event, lambda_context("presignup"))

    assert returned["response"] == {"autoConfirmUser": True, "autoVerifyEmail": True, "autoVerifyPhone": False}
    # Cognito reads only `response`: the rest goes back as it came.
    assert {k: v for k, v in returned.items() if k != "response"} == {k: v for k, v in sent.items() if k != "response"}


def test_without_an_email_only_the_user_is_confirmed() -> None:
    # Cognito fails the sign-up if autoVerifyEmail is set and there is no email.
    returned = lambda_handler(pre_sign_up_event({"phone_number": "+15555550100"}), lambda_context("presignup"))

    assert returned["response"] == {"autoConfirmUser": True, "autoVerifyEmail": False, "autoVerifyPhone": False}


def test_an_event_without_a_response_gets_one() -> None:
    event = pre_sign_up_event({"email": "ada@example.com"})
    del event["response"]

    returned = lambda_handler(event, lambda_context("presignup"))

    assert returned["response"] == {"autoConfirmUser": True, "autoVerifyEmail": True}


def test_the_trigger_is_a_function_without_routes() -> None:
    presignup = catalog.USER_POOL_TRIGGERS["PreSignUp"]

    assert presignup in catalog.FUNCTIONS
    assert presignup.serves_api is False
    assert presignup.handler == "lambdas.presignup.handler.lambda_handler"
    routes = catalog.routes()
    assert routes, "the other functions' routes are still read"
    assert all(route.function.serves_api for route in routes)
    assert "presignup" not in {route.function.name for route in routes}
