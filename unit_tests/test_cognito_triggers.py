"""The PreSignUp trigger in moto's Cognito, through the real Cognito API (boto3) and the real trigger handler."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.cognitoidp.models import CognitoIdpBackend

from embedded_stack.moto.cognito_triggers import (
    install_pre_sign_up_trigger,
    is_installed,
    uninstall_pre_sign_up_trigger,
)
from embedded_stack.provision import Provisioned
from lambdas.presignup import handler as presignup
from lambdas.shared.aws import client

PASSWORD = "Correct-Horse-42"


def sign_up(client_id: str, email: str, **extra: Any) -> dict[str, Any]:
    return client("cognito-idp").sign_up(
        ClientId=client_id,
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
        **extra,
    )


def user(aws: Provisioned, username: str) -> dict[str, Any]:
    found = client("cognito-idp").admin_get_user(UserPoolId=aws.user_pool_id, Username=username)
    found["Attributes"] = {a["Name"]: a["Value"] for a in found["UserAttributes"]}
    return found


def test_installing_twice_wraps_moto_once_and_uninstalling_restores_moto() -> None:
    was_installed = is_installed()
    uninstall_pre_sign_up_trigger()
    moto_sign_up = CognitoIdpBackend.sign_up
    try:
        install_pre_sign_up_trigger()
        once = CognitoIdpBackend.sign_up
        install_pre_sign_up_trigger()

        assert CognitoIdpBackend.sign_up is once is not moto_sign_up
        uninstall_pre_sign_up_trigger()
        assert CognitoIdpBackend.sign_up is moto_sign_up
        uninstall_pre_sign_up_trigger()  # harmless when not installed
        assert CognitoIdpBackend.sign_up is moto_sign_up
    finally:
        if was_installed:
            install_pre_sign_up_trigger()


def test_without_the_trigger_moto_leaves_a_sign_up_unconfirmed(aws: Provisioned, no_trigger: None) -> None:
    response = sign_up(aws.user_pool_client_id, "plain@example.com")

    assert response["UserConfirmed"] is False
    assert "CodeDeliveryDetails" in response  # the pool auto-verifies email: a code would be sent
    assert user(aws, "plain@example.com")["UserStatus"] == "UNCONFIRMED"


def test_the_trigger_confirms_and_verifies_and_no_code_is_sent(aws: Provisioned, trigger: None) -> None:
    response = sign_up(aws.user_pool_client_id, "ada@example.com")

    assert response["UserConfirmed"] is True
    assert "CodeDeliveryDetails" not in response
    created = user(aws, "ada@example.com")
    assert created["UserStatus"] == "CONFIRMED"
    assert created["Attributes"]["email_verified"] == "true"
    assert created["Attributes"]["sub"] == response["UserSub"]
    tokens = client("cognito-idp").initiate_auth(
        ClientId=aws.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada@example.com", "PASSWORD": PASSWORD},
    )
    assert tokens["AuthenticationResult"]["IdToken"]


def test_the_request_is_checked_before_the_trigger_runs(aws: Provisioned, trigger: None) -> None:
    sign_up(aws.user_pool_client_id, "twice@example.com")

    with pytest.raises(ClientError) as raised:
        sign_up(aws.user_pool_client_id, "twice@example.com")

    assert raised.value.response["Error"]["Code"] == "UsernameExistsException"


def test_the_trigger_gets_cognitos_pre_sign_up_event(
    aws: Provisioned, trigger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[dict[str, Any]] = []
    real_handler = presignup.lambda_handler

    def recording(event: dict[str, Any], context: Any) -> dict[str, Any]:
        received.append({**event, "request": dict(event["request"]), "response": dict(event["response"])})
        return real_handler(event, context)

    monkeypatch.setattr(presignup, "lambda_handler", recording)

    response = sign_up(aws.user_pool_client_id, "event@example.com")

    [event] = received
    assert event["triggerSource"] == "PreSignUp_SignUp"
    assert event["region"] == "us-east-1"
    assert event["userPoolId"] == aws.user_pool_id
    assert event["userName"] == response["UserSub"]  # email is the pool's username attribute: the name is a uuid
    assert event["callerContext"]["clientId"] == aws.user_pool_client_id
    assert event["request"]["userAttributes"]["email"] == "event@example.com"
    assert event["response"] == {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}


def test_a_failing_trigger_fails_the_sign_up_and_creates_no_user(
    aws: Provisioned, trigger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise ValueError("sign-ups are closed")

    monkeypatch.setattr(presignup, "lambda_handler", failing)

    with pytest.raises(ClientError) as raised:
        sign_up(aws.user_pool_client_id, "closed@example.com")

    assert raised.value.response["Error"]["Code"] == "UserLambdaValidationException"
    assert raised.value.response["Error"]["Message"] == "PreSignUp failed with error sign-ups are closed."
    with pytest.raises(ClientError, match="UserNotFoundException"):
        user(aws, "closed@example.com")


@pytest.mark.parametrize(
    "response",
    [None, {"autoConfirmUser": True}, {"response": {"autoConfirmUser": True, "autoVerifyPhone": True}}],
)
def test_an_invalid_trigger_response_fails_the_sign_up(
    aws: Provisioned, trigger: None, monkeypatch: pytest.MonkeyPatch, response: Any
) -> None:
    monkeypatch.setattr(presignup, "lambda_handler", lambda event, context: response)

    with pytest.raises(ClientError) as raised:
        sign_up(aws.user_pool_client_id, "invalid@example.com")

    assert raised.value.response["Error"]["Code"] == "InvalidLambdaResponseException"
    with pytest.raises(ClientError, match="UserNotFoundException"):
        user(aws, "invalid@example.com")


def test_a_pool_without_email_usernames(aws: Provisioned, trigger: None) -> None:
    cognito = client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="plain-usernames")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]

    response = cognito.sign_up(ClientId=client_id, Username="grace", Password=PASSWORD)

    assert response["UserConfirmed"] is True
    created = cognito.admin_get_user(UserPoolId=pool_id, Username="grace")
    assert created["UserStatus"] == "CONFIRMED"
    assert "email_verified" not in {a["Name"] for a in created["UserAttributes"]}


def test_a_trigger_that_does_not_confirm_leaves_the_user_to_confirm(
    aws: Provisioned, trigger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presignup, "lambda_handler", lambda event, context: event)

    response = sign_up(aws.user_pool_client_id, "later@example.com")

    assert response["UserConfirmed"] is False
    assert "CodeDeliveryDetails" in response
    created = user(aws, "later@example.com")
    assert created["UserStatus"] == "UNCONFIRMED"
    assert "email_verified" not in created["Attributes"]
