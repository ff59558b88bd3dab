"""The user pool's public client API: sign-up, confirmation, password and refresh-token logins.

Called with the app client id (no secret: the client is public), so IAM grants nothing here. Nothing this module
logs or raises carries a password, a code or a token: a Cognito error becomes a domain error, or, when it is a
fault, a CognitoFault naming only the operation and the error code (a moto or Cognito message may quote a token).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from lambdas.catalog import USER_POOL
from lambdas.identity.cognito_errors import Operation, challenge_error, domain_error
from lambdas.identity.models import Confirm, Login, RefreshedTokens, SignUp, Tokens
from lambdas.shared.aws import client, user_pool_client_id

logger = Logger()


class CognitoFault(Exception):
    """A Cognito error that is not the caller's mistake; answered with 500."""


def sign_up(request: SignUp) -> str:
    """Registers a user; returns the user's `sub`."""
    response = _call(
        "sign_up",
        "sign_up",
        Username=request.email,
        Password=request.password,
        UserAttributes=[{"Name": "email", "Value": request.email}, {"Name": "name", "Value": request.name}],
    )
    logger.info("user signed up", user_id=response["UserSub"], confirmed=response.get("UserConfirmed"))
    return str(response["UserSub"])


def confirm(request: Confirm) -> None:
    _call("confirm", "confirm_sign_up", Username=request.email, ConfirmationCode=request.code)
    logger.info("sign-up confirmed")


def login(request: Login) -> Tokens:
    result = _authenticate("login", "USER_PASSWORD_AUTH", {"USERNAME": request.email, "PASSWORD": request.password})
    return Tokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result["RefreshToken"],
        expires_in=result["ExpiresIn"],
        token_type=result["TokenType"],
    )


def refresh(refresh_token: str) -> RefreshedTokens | Tokens:
    """New ID and access tokens; with a new refresh token too when the app client rotates them."""
    result = _authenticate("refresh", "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
    tokens = RefreshedTokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        expires_in=result["ExpiresIn"],
        token_type=result["TokenType"],
    )
    if result.get("RefreshToken"):
        return Tokens(**tokens.model_dump(), refresh_token=result["RefreshToken"])
    return tokens


def _authenticate(operation: Operation, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
    response = _call(operation, "initiate_auth", AuthFlow=flow, AuthParameters=parameters)
    if "AuthenticationResult" not in response:
        challenge = str(response.get("ChallengeName", "unknown"))
        logger.info("login answered with a challenge", challenge=challenge)
        raise challenge_error(challenge)
    logger.info("authenticated", flow=flow)
    return response["AuthenticationResult"]


def _call(operation: Operation, method: str, **parameters: Any) -> dict[str, Any]:
    cognito = client("cognito-idp")
    try:
        return getattr(cognito, method)(ClientId=user_pool_client_id(USER_POOL), **parameters)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        message = str(error.response.get("Error", {}).get("Message", ""))
        mapped = domain_error(operation, code, message)
        if mapped is None:
            logger.error("cognito fault", operation=operation, error_code=code)
            # `from None`: the ClientError's text may quote what was sent; the request id is enough to find it.
            raise CognitoFault(f"{operation}: Cognito answered {code}") from None
        logger.info("request refused by cognito", operation=operation, error_code=code, status=int(mapped.status))
        raise mapped from None
