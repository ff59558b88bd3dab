"""Sessions in moto's Cognito as Cognito keeps them: revoking a refresh token, signing a user out, TOTP MFA.

What moto 5.2.5 does differently, and what this changes:
- RevokeToken is missing: here it revokes the refresh token it is given (if the token is of that client), and
  succeeds for a token it does not know, as RFC 7009 says a revocation endpoint does.
- A global sign-out (GlobalSignOut, AdminUserGlobalSignOut) revokes only the refresh tokens issued under the very
  username string it is given (a login by email stores the email, a sign-out by username then misses them): here
  it revokes every token of the user, however the user was named.
- AdminDeleteUser leaves the user's refresh tokens behind, and refreshing one then fails with a 500: here the
  user is signed out first, so the token is refused (NotAuthorizedException), as Cognito refuses it.
- TOTP: moto gives every user the same secret and, unless MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP is set, accepts
  any code. Here AssociateSoftwareToken makes a random secret per user, and VerifySoftwareToken (wrong code:
  EnableSoftwareTokenMFAException) and the SOFTWARE_TOKEN_MFA challenge (CodeMismatchException) check codes per
  RFC 6238 (HMAC-SHA1, 6 digits, 30-second steps; the step before and after are accepted for clock drift). The
  challenge is answered only for the user the session was started for; an unknown session is
  NotAuthorizedException, as Cognito answers it (moto: ResourceNotFoundException).
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html
"""

from __future__ import annotations

import base64
import functools
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from moto.cognitoidp.exceptions import CodeMismatchException, NotAuthorizedError, ResourceNotFoundError
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser, CognitoIdpUserPool, cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import EmptyResult

TIME_STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
_SECRET_ATTRIBUTE = "embedded_totp"  # on a moto user: {"pending": secret, "active": secret}
_MARK = "_keeps_sessions"
_lock = threading.Lock()


class EnableSoftwareTokenMFAException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("EnableSoftwareTokenMFAException", message)


def totp(secret: str) -> TOTP:
    """RFC 6238 as Cognito uses it, for a base32 `secret` (Cognito's SecretCode)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    return TOTP(key, DIGITS, SHA1(), TIME_STEP_SECONDS, enforce_key_length=False)


def code_is_valid(secret: str, code: str, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    generator = totp(secret)
    for step in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        try:
            generator.verify(code.encode(), int(now) + step * TIME_STEP_SECONDS)
        except InvalidToken:
            continue
        return True
    return False


def install() -> None:
    """Applies the changes listed in the module's docstring; idempotent."""
    with _lock:
        if getattr(CognitoIdpUserPool.sign_out, _MARK, False):
            return
        CognitoIdpUserPool.sign_out = _sign_out_every_token_of_the_user  # type: ignore[method-assign,assignment]  # patches moto in place
        CognitoIdpBackend.admin_delete_user = _signing_out_first(CognitoIdpBackend.admin_delete_user)  # type: ignore[method-assign]  # patches moto in place
        CognitoIdpBackend.associate_software_token = _associate_software_token  # type: ignore[method-assign,assignment]  # patches moto in place
        CognitoIdpBackend.verify_software_token = _verify_software_token  # type: ignore[method-assign,assignment]  # patches moto in place
        CognitoIdpBackend.respond_to_auth_challenge = _checking_the_totp_code(  # type: ignore[method-assign]  # patches moto in place
            CognitoIdpBackend.respond_to_auth_challenge
        )
        CognitoIdpResponse.revoke_token = _revoke_token  # type: ignore[attr-defined]  # adds an action moto lacks
        cache_clear = getattr(moto_responses.method_names_from_class, "cache_clear", None)
        if cache_clear:
            cache_clear()


def _sign_out_every_token_of_the_user(pool: CognitoIdpUserPool, username: str) -> None:
    user = pool._get_user(username)
    if user is None:
        return
    for token, issued in list(pool.refresh_tokens.items()):
        if issued is not None and pool._get_user(issued[1]) is user:
            pool.refresh_tokens[token] = None
    for token, (_, logged_in) in list(pool.access_tokens.items()):
        if pool._get_user(logged_in) is user:
            pool.access_tokens.pop(token)


setattr(_sign_out_every_token_of_the_user, _MARK, True)


def _signing_out_first(admin_delete_user: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(admin_delete_user)
    def admin_delete_user_signing_out(backend: CognitoIdpBackend, user_pool_id: str, username: str) -> None:
        pool = backend.describe_user_pool(user_pool_id)
        user = backend.admin_get_user(user_pool_id, username)
        pool.sign_out(user.username)
        admin_delete_user(backend, user_pool_id, username)

    return admin_delete_user_signing_out


def _user_of_access_token(backend: CognitoIdpBackend, access_token: str) -> CognitoIdpUser:
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            return backend.admin_get_user(pool.id, username)
    raise NotAuthorizedError("Invalid Access Token")


def _totp_secrets(user: CognitoIdpUser) -> dict[str, str]:
    return user.__dict__.setdefault(_SECRET_ATTRIBUTE, {})


def _associate_software_token(backend: CognitoIdpBackend, access_token: str, session: str) -> dict[str, str]:
    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError("Invalid session")
        username, pool = backend.sessions[session]
        user = backend.admin_get_user(pool.id, username)
    else:
        user = _user_of_access_token(backend, access_token)
    # 32 base32 characters (160 bits, RFC 4226's recommended key length), as Cognito's SecretCode.
    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    _totp_secrets(user)["pending"] = secret
    return {"SecretCode": secret, **({"Session": session} if session else {})}


def _verify_software_token(
    backend: CognitoIdpBackend, access_token: str, session: str, user_code: str, friendly_device_name: str
) -> dict[str, str]:
    if session:
        if session not in backend.sessions:
            raise ResourceNotFoundError(session)
        username, pool = backend.sessions[session]
        user = backend.admin_get_user(pool.id, username)
    else:
        user = _user_of_access_token(backend, access_token)
    stored = _totp_secrets(user)
    pending = stored.get("pending")
    if pending is None:
        raise EnableSoftwareTokenMFAException("Software token has not been associated with the user")
    if not code_is_valid(pending, user_code or ""):
        raise EnableSoftwareTokenMFAException("Code mismatch")
    stored["active"] = stored.pop("pending")
    user.token_verified = True
    return {"Status": "SUCCESS"}


def _checking_the_totp_code(respond: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(respond)
    def respond_checking_the_code(
        backend: CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> dict[str, Any]:
        if challenge_name != "PASSWORD_VERIFIER" and session not in backend.sessions:
            # moto: ResourceNotFoundException, which Cognito answers only for an unknown app client.
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        if challenge_name == "SOFTWARE_TOKEN_MFA":
            username, pool = backend.sessions[session]
            user = pool._get_user(username)
            if user is None or pool._get_user(str((challenge_responses or {}).get("USERNAME"))) is not user:
                raise NotAuthorizedError("Invalid session for the user.")
            secret = _totp_secrets(user).get("active")
            code = str((challenge_responses or {}).get("SOFTWARE_TOKEN_MFA_CODE") or "")
            if secret is None or not code_is_valid(secret, code):
                raise CodeMismatchException("Invalid code received for user")
        return respond(backend, session, client_id, challenge_name, challenge_responses)

    return respond_checking_the_code


def _revoke_token(response: CognitoIdpResponse) -> EmptyResult:
    token = response._get_param("Token") or ""
    client_id = response._get_param("ClientId") or ""
    for backends in cognitoidp_backends.values():
        for region, backend in backends.items():
            if region == "global":
                continue
            for pool in backend.user_pools.values():
                issued = pool.refresh_tokens.get(token)
                if issued is not None and issued[0] == client_id:
                    pool.refresh_tokens[token] = None
    return EmptyResult()
