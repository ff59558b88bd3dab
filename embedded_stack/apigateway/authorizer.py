"""What API Gateway's Cognito user pool authorizer (REST API, COGNITO_USER_POOLS) does for a protected method.

It takes the `Authorization` header, as `Bearer <token>` or the bare token, and accepts only an ID token of the
pool's app client: RS256 signature by a key of the pool's JWKS, unexpired, `iss` the pool, `aud` the client,
`token_use` = `id`. Anything else is refused (the gateway answers 401 and the function never runs).

Keys come from the JWKS URL it is configured with, never from the token (`jku`, `x5u` and the `iss` claim are
not followed). They are cached; a token signed with a key id not in the cache fetches the JWKS again, at most once
per `refetch_cooldown_seconds`, so a flood of made-up key ids cannot turn into a flood of JWKS requests. A JWKS
that cannot be fetched is a fault (PyJWKClientConnectionError), not a refusal.

Claims reach the function as REST API Cognito authorizers render them in `requestContext.authorizer.claims`
(observed in events from deployed APIs; AWS does not document the format):
- every value is a string; numbers in decimal (`auth_time`: "1717051129"); booleans "true"/"false";
- `exp` and `iat` as Java's Date.toString in UTC: "Thu May 30 07:38:49 UTC 2024";
- a list (`cognito:groups`, `cognito:roles`) as its items joined by commas: "admins,ops".
(HTTP APIs' JWT authorizers differ: they render a list as "[admins ops]" and keep `exp` numeric.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError

from embedded_stack.apigateway.events import MONTHS

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "token_use")
_DATE_CLAIMS = ("exp", "iat")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class AuthorizationError(Exception):
    """The request is refused: no token, or not a valid ID token of this pool and client. The message is for the
    log (it never quotes the token); the response says only "Unauthorized"."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


class CognitoAuthorizer:
    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str,
        *,
        jwks_lifespan_seconds: float = 3600,
        refetch_cooldown_seconds: float = 30,
        timeout_seconds: float = 5,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        # The key set is cached for `jwks_lifespan_seconds`, not each key forever (`cache_keys`): a key the pool
        # drops stops verifying once the cached set expires.
        self._jwks = PyJWKClient(
            jwks_url,
            cache_keys=False,
            cache_jwk_set=True,
            lifespan=jwks_lifespan_seconds,
            cooldown_duration=refetch_cooldown_seconds,
            timeout=timeout_seconds,
        )

    def claims(self, authorization_header: str | None) -> dict[str, str]:
        """The verified ID token's claims, rendered as API Gateway passes them; AuthorizationError otherwise."""
        token = _token(authorization_header)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthorizationError("not a JWT") from None
        # Checked before any key is looked up: `none`, HS256 (a public key used as an HMAC secret) and the rest
        # are refused whatever the key set holds.
        if header.get("alg") != ALGORITHM:
            raise AuthorizationError(f"algorithm {str(header.get('alg'))[:20]!r} is not {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthorizationError("no key id")
        try:
            key = self._jwks.get_signing_key(kid)
        except PyJWKClientConnectionError:
            # Not the token's fault: a 401 would send the caller to log in again for nothing. The gateway answers
            # 500, as API Gateway does when it cannot reach a Cognito authorizer (AUTHORIZER_FAILURE).
            raise
        except PyJWKClientError:
            raise AuthorizationError("signed with a key not in the pool's JWKS") from None
        try:
            payload = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise AuthorizationError("expired", expired=True) from None
        except jwt.InvalidTokenError as error:
            raise AuthorizationError(f"invalid token: {type(error).__name__}: {error}") from None
        if payload.get("token_use") != "id":
            raise AuthorizationError(f"token_use is {str(payload.get('token_use'))[:20]!r}, not 'id'")
        return render_claims(payload)


def _token(authorization_header: str | None) -> str:
    value = (authorization_header or "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    if not value:
        raise AuthorizationError("no token")
    return value


def render_claims(payload: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway REST puts them in `requestContext.authorizer.claims` (see the module's docstring)."""
    rendered = {}
    for name, value in payload.items():
        if value is None:
            continue
        if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            rendered[name] = java_date(value)
        elif isinstance(value, list | tuple):
            rendered[name] = ",".join(_scalar(item) for item in value)
        else:
            rendered[name] = _scalar(value)
    return rendered


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def java_date(epoch_seconds: float) -> str:
    """`Thu May 30 07:38:49 UTC 2024`: Java's Date.toString in UTC, in English whatever the process's locale."""
    moment = time.gmtime(int(epoch_seconds))
    return (
        f"{_DAYS[moment.tm_wday]} {MONTHS[moment.tm_mon - 1]} {moment.tm_mday:02d} "
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} UTC {moment.tm_year}"
    )
