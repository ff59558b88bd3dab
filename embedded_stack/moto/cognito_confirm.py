"""moto's ConfirmSignUp confirms a user who is already confirmed; Cognito refuses it, and so does this patch.

Cognito answers NotAuthorizedException "User cannot be confirmed. Current status is CONFIRMED" for a confirmed
user, whatever the code. moto confirms anyone with any code, so on the embedded stack a confirmation of an
existing (auto-confirmed) account would answer 200 where an unknown email answers 400: the difference the
identity function must not show. moto still accepts any code for an UNCONFIRMED user (it sends none).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend, UserStatus

_MARK = "_refuses_confirmed_users"


def install_confirm_check() -> None:
    confirm: Callable[[CognitoIdpBackend, str, str], str] = CognitoIdpBackend.confirm_sign_up
    if getattr(confirm, _MARK, False):
        return

    @functools.wraps(confirm)
    def confirm_sign_up(backend: CognitoIdpBackend, client_id: str, username: str) -> str:
        pool = next((pool for pool in backend.user_pools.values() if client_id in pool.clients), None)
        # admin_get_user finds a user by username or by an alias (the pool signs users in by email).
        user = backend.admin_get_user(pool.id, username) if pool is not None else None
        if user is not None and user.status is UserStatus.CONFIRMED:
            raise NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
        return confirm(backend, client_id, username)

    setattr(confirm_sign_up, _MARK, True)
    CognitoIdpBackend.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign]
