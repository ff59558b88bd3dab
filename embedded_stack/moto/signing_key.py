"""The key moto's Cognito signs tokens with: this stack's own, not the one that ships inside moto.

moto 5.2.5 signs every user pool's tokens with the RSA private key in moto/cognitoidp/resources/jwks-private.json
(kid "dummy") and serves its public half as every pool's JWKS: anyone with moto installed can mint an ID token the
embedded authorizer accepts, `cognito:groups` included. `install(key)` makes every moto user pool in this process
sign with `key` instead (pools made before and after), puts the key's id in the tokens' `kid` header, and serves
the key's public half at `/<pool id>/.well-known/jwks.json`. A token signed with moto's key then fails the
authorizer's signature check, as any foreign token does.

The stack generates the key at its first start and keeps it with its state (embedded_stack.moto.persistence), so tokens
issued before a restart still verify after it.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

import moto.cognitoidp.models as cognito_models
from joserfc import jwk, jwt
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

_lock = threading.Lock()
_current: jwk.RSAKey | None = None


def new_key() -> jwk.RSAKey:
    return jwk.RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)


def key_from_json(private_jwk: dict[str, Any]) -> jwk.RSAKey:
    return jwk.RSAKey.import_key(private_jwk)


def key_to_json(key: jwk.RSAKey) -> dict[str, Any]:
    return dict(key.as_dict(private=True))


def install(key: jwk.RSAKey) -> None:
    """Every moto user pool in this process signs with `key`, and serves it as its JWKS."""
    global _current
    with _lock:
        _current = key
        if not getattr(CognitoIdpUserPool.__init__, "_signs_with_stack_key", False):
            CognitoIdpUserPool.__init__ = _signing_with_stack_key(CognitoIdpUserPool.__init__)  # type: ignore[method-assign]
            cognito_models.jwt = _JwtWithKeyId  # type: ignore[assignment]
        CognitoIdpJsonWebKeyResponse.json_web_key = json.dumps({"keys": [key.as_dict(private=False)]}).encode()
    for pool in _existing_pools():
        pool.json_web_key = key


def current() -> jwk.RSAKey | None:
    return _current


def _signing_with_stack_key(init: Any) -> Any:
    @functools.wraps(init)
    def init_signing_with_stack_key(pool: CognitoIdpUserPool, *args: Any, **kwargs: Any) -> None:
        init(pool, *args, **kwargs)
        if _current is not None:
            pool.json_web_key = _current

    init_signing_with_stack_key._signs_with_stack_key = True  # type: ignore[attr-defined]
    return init_signing_with_stack_key


class _JwtWithKeyId:
    """`joserfc.jwt` as moto's Cognito models see it: the header names the signing key (moto writes "dummy")."""

    @staticmethod
    def encode(header: dict[str, Any], claims: dict[str, Any], key: jwk.RSAKey, *args: Any, **kwargs: Any) -> str:
        return jwt.encode({**header, "kid": key.kid}, claims, key, *args, **kwargs)


def _existing_pools() -> list[CognitoIdpUserPool]:
    from moto.cognitoidp.models import cognitoidp_backends

    pools = []
    for account in cognitoidp_backends.values():
        for backend in account.values():
            if isinstance(backend, CognitoIdpBackend):
                pools.extend(backend.user_pools.values())
    return pools
