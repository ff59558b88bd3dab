"""The user pool: its public client API (sign-up, logins, codes, tokens) and the admin calls an account needs.

The client API is called with the app client id (no secret: the client is public), or with a user's access token,
and IAM grants nothing there; the `Admin*` calls act on the caller's own user only and are what the identity
function's role grants (catalog.IDENTITY). Nothing this module logs or raises carries a password, a code or a
token: a Cognito error becomes a domain error, or, when it is a fault, a CognitoFault naming only the operation
and the error code (a moto or Cognito message may quote a token).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote, urlencode

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from lambdas.catalog import USER_POOL
from lambdas.identity.cognito_errors import SILENT_REFUSALS, Operation, challenge_error, domain_error
from lambdas.identity.models import (
    ChangePassword,
    Confirm,
    Login,
    MfaChallenge,
    MfaLogin,
    Profile,
    RefreshedTokens,
    ResetPassword,
    SignUp,
    Tokens,
    TotpSecret,
)
from lambdas.shared.aws import client, user_pool_client_id, user_pool_id
from lambdas.shared.errors import FieldError, Forbidden

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


MFA_CHALLENGE = "SOFTWARE_TOKEN_MFA"
TOTP_ISSUER = "serverless-platform"
NOT_YOUR_TOKEN = "The access token is another account's"


def login(request: Login) -> Tokens | MfaChallenge:
    """The tokens, or, for an account with TOTP on, the challenge to answer with the authenticator app's code."""
    parameters = {"USERNAME": request.email, "PASSWORD": request.password}
    response = _call("login", "initiate_auth", AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters)
    if response.get("ChallengeName") == MFA_CHALLENGE:
        logger.info("login answered with a challenge", challenge=MFA_CHALLENGE)
        return MfaChallenge(challenge=MFA_CHALLENGE, session=response["Session"])
    return _tokens(_authenticated(response, "USER_PASSWORD_AUTH"))


def log_in_with_totp(request: MfaLogin) -> Tokens:
    response = _call(
        "login_mfa",
        "respond_to_auth_challenge",
        ChallengeName=MFA_CHALLENGE,
        Session=request.session,
        ChallengeResponses={"USERNAME": request.email, "SOFTWARE_TOKEN_MFA_CODE": request.code},
    )
    return _tokens(_authenticated(response, MFA_CHALLENGE))


def _tokens(result: dict[str, Any]) -> Tokens:
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


def forgot_password(email: str) -> None:
    """Cognito emails a reset code, if the address has an account; nothing says whether it has."""
    _call("forgot_password", "forgot_password", silent=SILENT_REFUSALS, Username=email)
    logger.info("password reset asked for")


def resend_code(email: str) -> None:
    """Cognito emails the sign-up confirmation code again, if the address has an unconfirmed account."""
    _call("resend_code", "resend_confirmation_code", silent=SILENT_REFUSALS, Username=email)
    logger.info("confirmation code asked for again")


def reset_password(request: ResetPassword) -> None:
    """Sets the new password, then signs every session out: a refresh token issued before the reset (perhaps to
    whoever made the reset necessary) no longer works. Cognito's ConfirmForgotPassword alone revokes nothing."""
    _call(
        "reset_password",
        "confirm_forgot_password",
        Username=request.email,
        ConfirmationCode=request.code,
        Password=request.new_password,
    )
    _call("reset_password", "admin_user_global_sign_out", via="admin", Username=request.email)
    logger.info("password reset; every session signed out")


def revoke(refresh_token: str) -> None:
    """That refresh token (and the tokens it issued) is revoked; revoking an unknown one changes nothing."""
    _call("logout", "revoke_token", Token=refresh_token)
    logger.info("refresh token revoked")


def sign_out_everywhere(refresh_token: str) -> None:
    """Every session of the account the refresh token belongs to is revoked. The refresh token proves the caller
    holds a session; Cognito's GlobalSignOut is authorised by an access token, which it is exchanged for."""
    result = _authenticated(
        _call(
            "sign_out", "initiate_auth", AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        ),
        "REFRESH_TOKEN_AUTH",
    )
    _call("sign_out", "global_sign_out", via="token", AccessToken=result["AccessToken"])
    logger.info("every session signed out")


def change_password(username: str, request: ChangePassword) -> None:
    """The current password is checked with a login (Cognito's ChangePassword needs an access token, which a
    protected route does not receive); the session that login opens is revoked at once."""
    parameters = {"USERNAME": username, "PASSWORD": request.current_password}
    response = _call("change_password", "initiate_auth", AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters)
    _call(
        "change_password",
        "admin_set_user_password",
        via="admin",
        Username=username,
        Password=request.new_password,
        Permanent=True,
    )
    if refresh_token := response.get("AuthenticationResult", {}).get("RefreshToken"):
        _call("change_password", "revoke_token", Token=refresh_token)
    logger.info("password changed")


def account(username: str) -> Profile:
    user = _call("account", "admin_get_user", via="admin", Username=username)
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user.get("UserAttributes", [])}
    return Profile(
        user_id=attributes.get("sub", ""),
        email=attributes.get("email", ""),
        name=attributes.get("name", ""),
        mfa=MFA_CHALLENGE in (user.get("UserMFASettingList") or []),
    )


def rename(username: str, name: str) -> Profile:
    attributes = [{"Name": "name", "Value": name}]
    _call("account", "admin_update_user_attributes", via="admin", Username=username, UserAttributes=attributes)
    logger.info("name changed")
    return account(username)


def start_totp(sub: str, access_token: str) -> TotpSecret:
    """A new authenticator-app key for the account (not in force until verified)."""
    email = _own_user(sub, access_token, "mfa_setup")
    secret = str(_call("mfa_setup", "associate_software_token", via="token", AccessToken=access_token)["SecretCode"])
    label = quote(f"{TOTP_ISSUER}:{email}")
    query = urlencode({"secret": secret, "issuer": TOTP_ISSUER, "algorithm": "SHA1", "digits": 6, "period": 30})
    logger.info("TOTP key made")
    return TotpSecret(secret=secret, otpauth_uri=f"otpauth://totp/{label}?{query}")


def verify_totp(sub: str, access_token: str, code: str) -> None:
    """The authenticator app's code proves the key was taken: from now on every login needs a code."""
    _own_user(sub, access_token, "mfa_verify")
    _call("mfa_verify", "verify_software_token", via="token", AccessToken=access_token, UserCode=code)
    settings = {"Enabled": True, "PreferredMfa": True}
    _call(
        "mfa_verify",
        "set_user_mfa_preference",
        via="token",
        AccessToken=access_token,
        SoftwareTokenMfaSettings=settings,
    )
    logger.info("TOTP on")


def delete_user(username: str) -> None:
    """Deletes the Cognito user (its sessions go with it); an account already gone is no error."""
    _call("account", "admin_delete_user", via="admin", silent=frozenset({"UserNotFoundException"}), Username=username)
    logger.info("cognito user deleted")


def _own_user(sub: str, access_token: str, operation: Operation) -> str:
    """The email of the access token's user, which must be the caller: the token alone authorises MFA set-up."""
    user = _call(operation, "get_user", via="token", AccessToken=access_token)
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user.get("UserAttributes", [])}
    if attributes.get("sub") != sub:
        raise Forbidden(NOT_YOUR_TOKEN, (FieldError("body.accessToken", "belongs to another account"),))
    return attributes.get("email", "")


def _authenticate(operation: Operation, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
    return _authenticated(_call(operation, "initiate_auth", AuthFlow=flow, AuthParameters=parameters), flow)


def _authenticated(response: dict[str, Any], flow: str) -> dict[str, Any]:
    if "AuthenticationResult" not in response:
        challenge = str(response.get("ChallengeName", "unknown"))
        logger.info("login answered with a challenge", challenge=challenge)
        raise challenge_error(challenge)
    logger.info("authenticated", flow=flow)
    return response["AuthenticationResult"]


Via = Literal["client", "admin", "token"]


def _call(
    operation: Operation, method: str, via: Via = "client", silent: frozenset[str] = frozenset(), **parameters: Any
) -> dict[str, Any]:
    """Cognito's `method`, as the app client (`ClientId`), as the pool's admin (`UserPoolId`: IAM-authorised) or
    with the user's access token alone; an error code in `silent` is taken as success (an empty answer)."""
    cognito = client("cognito-idp")
    if via == "client":
        parameters["ClientId"] = user_pool_client_id(USER_POOL)
    elif via == "admin":
        parameters["UserPoolId"] = user_pool_id(USER_POOL)
    try:
        return getattr(cognito, method)(**parameters)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code in silent:
            logger.info("cognito refusal not told", operation=operation, error_code=code)
            return {}
        mapped = domain_error(operation, code, message)
        if mapped is None:
            logger.error("cognito fault", operation=operation, error_code=code)
            # `from None`: the ClientError's text may quote what was sent; the request id is enough to find it.
            raise CognitoFault(f"{operation}: Cognito answered {code}") from None
        logger.info("request refused by cognito", operation=operation, error_code=code, status=int(mapped.status))
        raise mapped from None
