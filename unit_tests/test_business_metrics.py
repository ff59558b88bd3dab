"""Each business metric is printed (CloudWatch's embedded metric format, one JSON line on stdout) once for each
success it counts, and not for a refusal; a retry answered from its Idempotency-Key counts nothing again."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from embedded_stack.provision import Provisioned
from infra.functions import powertools_environment
from infra.observability import business_metric
from infra.settings import StackSettings
from lambdas import catalog
from lambdas.shared import observability
from testkit import call, images
from unit_tests.users.conftest import post_form

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Correct-Horse-42"
AVATAR = images.png()


def emitted(stdout: str) -> list[tuple[str, float, dict[str, str]]]:
    """(metric, value, dimensions) of every EMF line, in order; each value as CloudWatch would read it."""
    found = []
    for line in stdout.splitlines():
        document = json.loads(line) if line.startswith("{") and '"_aws"' in line else None
        if document is None:
            continue
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == catalog.METRICS_NAMESPACE
        [dimension_set] = directive["Dimensions"]
        dimensions = {name: document[name] for name in dimension_set}
        for metric in directive["Metrics"]:
            values = document[metric["Name"]]
            for value in values if isinstance(values, list) else [values]:
                found.append((metric["Name"], value, dimensions))
    return found


def new_user() -> dict[str, str]:
    return {"email": f"ada-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD, "name": "Ada Lovelace"}


def signed_up() -> dict[str, str]:
    user = new_user()
    assert call("POST", "/auth/signup", user).status == 201
    return user


def tenant(**overrides: str) -> dict[str, str]:
    return {
        "name": "Acme",
        "website": f"{uuid.uuid4().hex[:12]}.example",
        "contactEmail": "ops@acme.example",
    } | overrides


def transaction(points: int) -> dict[str, Any]:
    return {"payer": "DANNON", "points": points, "timestamp": "2020-11-02T14:00:00Z"}


def user_form(avatar: bytes | None = AVATAR) -> tuple[bytes, str]:
    return images.form(name="Ada", email=f"ada-{uuid.uuid4().hex[:6]}@example.com", avatar=avatar)


# Each case: what runs before (not counted), the request, its status and what it prints: (metric, value) pairs.
Setup = Callable[[], Any]
CASES: list[tuple[str, Setup, Callable[[Any], int], int, list[tuple[str, float]]]] = [
    ("a sign-up", lambda: None, lambda _: call("POST", "/auth/signup", new_user()).status, 201, [("SignUps", 1)]),
    (
        "a sign-up with a taken email",
        signed_up,
        lambda user: call("POST", "/auth/signup", user).status,
        409,
        [],
    ),
    (
        "a login with a wrong password",
        signed_up,
        lambda user: call("POST", "/auth/login", {"email": user["email"], "password": "Wrong-Horse-42"}).status,
        401,
        [("LoginsFailed", 1)],
    ),
    (
        "a login",
        signed_up,
        lambda user: call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).status,
        200,
        [],
    ),
    (
        "a tenant created",
        lambda: None,
        lambda _: call("POST", "/tenants", tenant()).status,
        201,
        [("TenantsCreated", 1)],
    ),
    (
        "a paid tenant refused to a non-admin",
        lambda: None,
        lambda _: call("POST", "/tenants", tenant(plan="pro")).status,
        403,
        [],
    ),
    (
        "a user created",
        lambda: None,
        lambda _: post_form(*user_form()).status,
        201,
        [("UsersCreated", 1), ("AvatarBytesStored", len(AVATAR))],
    ),
    ("a user without an avatar", lambda: None, lambda _: post_form(*user_form(avatar=None)).status, 400, []),
    (
        "a transaction",
        lambda: None,
        lambda _: call("POST", "/points/transactions", transaction(300)).status,
        201,
        [("PointsAdded", 300)],
    ),
    (
        "a transaction retried with its Idempotency-Key",
        lambda: call("POST", "/points/transactions", transaction(300), headers={"Idempotency-Key": "k-1"}),
        lambda _: call("POST", "/points/transactions", transaction(300), headers={"Idempotency-Key": "k-1"}).status,
        201,
        [],
    ),
    (
        "a spend",
        lambda: call("POST", "/points/transactions", transaction(300)),
        lambda _: call("POST", "/points/spend", {"points": 200}).status,
        200,
        [("PointsSpent", 200)],
    ),
    (
        "a spend of more than the ledger holds",
        lambda: call("POST", "/points/transactions", transaction(100)),
        lambda _: call("POST", "/points/spend", {"points": 200}).status,
        409,
        [("SpendsRefused", 1)],
    ),
    (
        "an SLA error filed",
        lambda: None,
        lambda _: call("POST", "/sla-errors", {"fileName": "daily.csv", "expectedAt": "2024-05-01T06:00:00Z"}).status,
        200,
        [("SlaErrorsFiled", 1)],
    ),
    ("an SLA error refused", lambda: None, lambda _: call("POST", "/sla-errors", {"fileName": ""}).status, 400, []),
]


@pytest.mark.parametrize(
    ("setup", "request_", "status", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_a_business_metric_is_printed_once_per_success_and_never_for_a_refusal(
    aws: Provisioned, trigger: None, capsys: pytest.CaptureFixture[str], setup, request_, status, expected
):
    before = setup()
    capsys.readouterr()

    answered = request_(before)

    assert answered == status
    assert [(name, value) for name, value, _ in emitted(capsys.readouterr().out)] == expected


@pytest.mark.parametrize("metric", catalog.BUSINESS_METRICS, ids=lambda metric: metric.name)
def test_every_declared_business_metric_has_a_case(metric):
    assert any(metric.name in [name for name, _ in case[4]] for case in CASES)


def test_a_metric_names_its_service_and_stage_as_the_dashboard_reads_them():
    """In a function's own environment, as the program sets it (one process a function, unlike these tests)."""
    environment = {
        **os.environ,
        **powertools_environment("tenants", StackSettings(project="p", stack="s", stage_name="live")),
    }
    script = (
        "from lambdas.catalog import TENANTS_CREATED; from lambdas.shared import observability; "
        "observability.record(TENANTS_CREATED); observability.flush_metrics()"
    )
    printed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout

    [(name, value, dimensions)] = emitted(printed)

    read = business_metric(catalog.TENANTS_CREATED, StackSettings(project="p", stack="s", stage_name="live"))
    assert (name, value) == (read[1], 1)
    assert dimensions == dict(zip(read[2:-1:2], read[3:-1:2], strict=True))


def test_the_tracer_is_off_outside_lambda_so_nothing_waits_for_a_daemon():
    # Powertools' test: LAMBDA_TASK_ROOT is unset here (as in the embedded stack), so there is nothing to trace to.
    assert "LAMBDA_TASK_ROOT" not in os.environ
    assert observability.tracer is None


@pytest.mark.parametrize(
    ("environment", "traced"),
    [
        ({}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
    ],
    ids=["outside-lambda", "on-lambda", "on-lambda-tracing-off"],
)
def test_the_x_ray_sdk_is_imported_only_where_a_function_is_traced(environment, traced):
    check = (
        "import sys, lambdas.platform.handler as h; from lambdas.shared import observability as o; "
        "print(o.tracer is not None, 'aws_xray_sdk.core' in sys.modules)"
    )
    clean = {name: value for name, value in os.environ.items() if name not in ("LAMBDA_TASK_ROOT",)}
    printed = subprocess.run(
        [sys.executable, "-c", check], env=clean | environment, capture_output=True, text=True, check=True
    ).stdout

    assert printed.split() == [str(traced), str(traced)]


@pytest.mark.parametrize("metric", catalog.BUSINESS_METRICS, ids=lambda metric: metric.name)
def test_a_metric_is_recorded_by_the_function_the_dashboard_reads_it_from(metric):
    [constant] = [name for name, value in vars(catalog).items() if value is metric]
    recorders = [
        function.name
        for function in catalog.FUNCTIONS
        if function.serves_api and constant in inspect.getsource(importlib.import_module(function.module))
    ]
    assert recorders == [metric.function.name]
