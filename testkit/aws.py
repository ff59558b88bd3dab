"""moto in this process with what the catalog declares, as the handlers see AWS when `call` runs them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import boto3
from moto import mock_aws

from embedded_stack.moto import cognito_mail, cognito_sessions
from embedded_stack.moto.cognito_confirm import install_confirm_check
from embedded_stack.provision import Provisioned, provision
from lambdas.shared.aws import client

# Credentials moto accepts, and no endpoint or profile that would send the calls anywhere else.
_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
_UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE")


@contextlib.contextmanager
def mocked_aws(session: boto3.Session | None = None) -> Iterator[Provisioned]:
    """Every catalog table, bucket and the user pool in moto (`mock_aws`), their names in the environment the
    functions read, and Cognito's refusal to confirm a confirmed user; the variables it set are put back after.

    `session`: the boto3 session to use (a test suite shares one: each new session loads the service models
    again)."""
    environment = _Environment()
    try:
        environment.set(dict.fromkeys(_UNSET) | _ENVIRONMENT)
        with mock_aws():
            if session is not None:
                boto3.DEFAULT_SESSION = session
            client.cache_clear()
            try:
                provisioned = provision()
                install_confirm_check()
                # Codes kept in memory (cognito_mail.outbox()), revocation and TOTP as the embedded stack has them.
                cognito_mail.install(cognito_mail.Outbox(console=None))
                cognito_sessions.install()
                environment.set(provisioned.environment())
                yield provisioned
            finally:
                client.cache_clear()  # no client of this moto outlives it
    finally:
        environment.restore()


class _Environment:
    """Variables set, and what they were before."""

    def __init__(self) -> None:
        self._before: dict[str, str | None] = {}

    def set(self, values: dict[str, str | None]) -> None:
        for name, value in values.items():
            self._before.setdefault(name, os.environ.get(name))
            _put(name, value)

    def restore(self) -> None:
        for name, value in self._before.items():
            _put(name, value)


def _put(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
