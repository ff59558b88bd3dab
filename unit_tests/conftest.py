"""moto-backed AWS with every declared resource; see helpers.py for calling handlers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from embedded_stack.moto import cognito_mail, cognito_sessions
from embedded_stack.moto.cognito_confirm import install_confirm_check
from embedded_stack.moto.cognito_triggers import (
    install_pre_sign_up_trigger,
    is_installed,
    uninstall_pre_sign_up_trigger,
)
from embedded_stack.provision import Provisioned, provision
from lambdas.shared.aws import client
from unit_tests.gateway_client import stop_serving


@pytest.fixture(scope="session")
def boto3_session() -> boto3.Session:
    """One session for all tests: each new one loads every service model from disk again (~0.1 s a client)."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture
def aws(boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Provisioned]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.DEFAULT_SESSION = boto3_session
        client.cache_clear()
        provisioned = provision()
        install_confirm_check()
        cognito_mail.install(cognito_mail.Outbox(console=None))
        cognito_sessions.install()
        for name, value in provisioned.environment().items():
            monkeypatch.setenv(name, value)
        yield provisioned
    client.cache_clear()


@pytest.fixture
def outbox(aws: Provisioned) -> cognito_mail.Outbox:
    """The messages Cognito would have emailed in this test (embedded_stack.moto.cognito_mail)."""
    return cognito_mail.outbox()


@pytest.fixture
def dynamodb_calls(aws: Provisioned) -> Iterator[Counter[str]]:
    """Every DynamoDB API call the code makes, by operation name (botocore's own event hook, not a mock)."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    dynamodb = client("dynamodb")
    dynamodb.meta.events.register("before-call.dynamodb.*", count)
    yield calls
    dynamodb.meta.events.unregister("before-call.dynamodb.*", count)


@pytest.fixture
def no_trigger() -> Iterator[None]:
    """Cognito without a PreSignUp trigger: a sign-up stays UNCONFIRMED until confirmed."""
    was_installed = is_installed()
    uninstall_pre_sign_up_trigger()
    yield
    if was_installed:
        install_pre_sign_up_trigger()


@pytest.fixture
def trigger() -> Iterator[None]:
    """Cognito with the platform's PreSignUp trigger, as deployed and in the embedded stack."""
    was_installed = is_installed()
    install_pre_sign_up_trigger()
    yield
    if not was_installed:
        uninstall_pre_sign_up_trigger()


@pytest.fixture(autouse=True)
def _stop_served_gateways() -> Iterator[None]:
    yield
    stop_serving()
