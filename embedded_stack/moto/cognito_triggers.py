"""Cognito Lambda triggers for moto's user pools, which never invoke them.

`install_pre_sign_up_trigger()` makes every moto user pool in this process behave as a pool whose PreSignUp
trigger is `lambdas.presignup` (catalog.USER_POOL_TRIGGERS): on SignUp, after the request's own checks (client,
existing user, password policy), the real handler is called with the event Cognito sends and its `response` is
honoured, as Cognito documents it:
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html

- `autoConfirmUser`: the user is CONFIRMED at once, and no confirmation code is sent (no CodeDeliveryDetails).
- `autoVerifyEmail` / `autoVerifyPhone`: `email_verified` / `phone_number_verified` become "true"; asking for it
  without the attribute is an InvalidLambdaResponseException, and no user is created.
- A trigger that raises fails the sign-up with UserLambdaValidationException ("PreSignUp failed with error
  <message>."), and no user is created.

It wraps moto's backend class, so moto's server (the embedded stack runs it in this process) and `mock_aws` both
see it. Installing twice changes nothing; `uninstall_pre_sign_up_trigger()` restores moto's own sign-up.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser, UserStatus
from moto.core.exceptions import JsonRESTError

from embedded_stack.apigateway.events import lambda_context
from lambdas import catalog

_INSTALLED_MARK = "_runs_pre_sign_up_trigger"
_lock = threading.Lock()

SignUp = Callable[..., tuple[CognitoIdpUser, Any]]


class UserLambdaValidationException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("UserLambdaValidationException", message)


class InvalidLambdaResponseException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidLambdaResponseException", message)


def install_pre_sign_up_trigger() -> None:
    with _lock:
        current: SignUp = CognitoIdpBackend.sign_up
        if getattr(current, _INSTALLED_MARK, False):
            return
        CognitoIdpBackend.sign_up = _with_trigger(current)  # type: ignore[method-assign]


def uninstall_pre_sign_up_trigger() -> None:
    with _lock:
        current = CognitoIdpBackend.sign_up
        if getattr(current, _INSTALLED_MARK, False):
            CognitoIdpBackend.sign_up = current.__wrapped__  # type: ignore[attr-defined,method-assign]


def is_installed() -> bool:
    return bool(getattr(CognitoIdpBackend.sign_up, _INSTALLED_MARK, False))


def _with_trigger(sign_up: SignUp) -> SignUp:
    @functools.wraps(sign_up)
    def sign_up_with_trigger(
        backend: CognitoIdpBackend,
        client_id: str,
        username: str,
        password: str,
        attributes: list[dict[str, str]],
    ) -> tuple[CognitoIdpUser, Any]:
        user, code_delivery = sign_up(backend, client_id, username, password, attributes)
        pool = backend.user_pools[user.user_pool_id]
        try:
            response = _run_trigger(pre_sign_up_event(backend.region_name, user, client_id))
            _apply(response, user)
        except Exception:
            # Cognito runs the trigger before it creates the user: a failed trigger leaves no user behind.
            del pool.users[user.username]
            raise
        if user.status is UserStatus.CONFIRMED:
            code_delivery = None  # a confirmed user is sent no confirmation code
        return user, code_delivery

    setattr(sign_up_with_trigger, _INSTALLED_MARK, True)
    return sign_up_with_trigger


def pre_sign_up_event(region: str, user: CognitoIdpUser, client_id: str) -> dict[str, Any]:
    """The event Cognito sends a PreSignUp trigger for a SignUp call."""
    return {
        "version": "1",
        "region": region,
        "userPoolId": user.user_pool_id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": "PreSignUp_SignUp",
        "request": {"userAttributes": dict(user.attribute_lookup), "validationData": None, "clientMetadata": {}},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }


def _run_trigger(event: dict[str, Any]) -> dict[str, Any]:
    function = catalog.USER_POOL_TRIGGERS["PreSignUp"]
    # Looked up at each call: the embedded stack re-imports lambdas/ when a file there changes.
    handler = importlib.import_module(function.module).lambda_handler
    try:
        result = handler(event, lambda_context(function.name))
    except Exception as error:
        raise UserLambdaValidationException(f"PreSignUp failed with error {error}.") from error
    if not isinstance(result, dict) or not isinstance(result.get("response"), dict):
        raise InvalidLambdaResponseException("Invalid lambda response: the PreSignUp trigger returned no response")
    return result["response"]


def _apply(response: dict[str, Any], user: CognitoIdpUser) -> None:
    verified = []
    for flag, attribute in (("autoVerifyEmail", "email"), ("autoVerifyPhone", "phone_number")):
        if response.get(flag) is True:
            if not user.attribute_lookup.get(attribute):
                raise InvalidLambdaResponseException(f"Invalid lambda response: {flag} is set without {attribute}")
            verified.append({"Name": f"{attribute}_verified", "Value": "true"})
    if verified:
        user.update_attributes(verified)
    if response.get("autoConfirmUser") is True:
        user.status = UserStatus.CONFIRMED
