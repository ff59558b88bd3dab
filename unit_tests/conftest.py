"""moto-backed AWS with every declared resource (testkit.mocked_aws); testkit.call calls the handlers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings

from embedded_stack.moto import cognito_mail
from embedded_stack.moto.cognito_triggers import (
    install_pre_sign_up_trigger,
    is_installed,
    uninstall_pre_sign_up_trigger,
)
from embedded_stack.provision import Provisioned
from lambdas.shared.aws import client
from testkit import mocked_aws
from unit_tests.gateway_client import stop_serving

# Properties are checked here, speed in bench/: Hypothesis's per-example deadline and its "input generation is slow"
# check time the machine, and failed on a busy 2-core one while every property held.
settings.register_profile("properties-not-timings", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("properties-not-timings")


@pytest.fixture(scope="session")
def boto3_session() -> boto3.Session:
    """One session for all tests: each new one loads every service model from disk again (~0.1 s a client)."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture
def aws(boto3_session: boto3.Session) -> Iterator[Provisioned]:
    with mocked_aws(boto3_session) as provisioned:
        yield provisioned


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
