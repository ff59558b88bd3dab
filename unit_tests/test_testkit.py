"""The test kit as a user of it writes tests (docs/development.md, "The test kit"): this file is the example."""

from __future__ import annotations

import os

import pytest

from testkit import call, mocked_aws, worked_example


def test_the_worked_example_spends_the_oldest_points_first() -> None:
    with mocked_aws():
        for transaction in worked_example.TRANSACTIONS:
            assert call("POST", "/points/transactions", transaction).status == 201

        spent = call("POST", "/points/spend", worked_example.SPEND)

        assert (spent.status, spent.json()) == (200, worked_example.SPENT)
        assert call("GET", "/points/balance").json() == worked_example.BALANCE


def test_a_protected_route_called_without_claims_is_refused_as_the_authorizer_would_not_let_it_through() -> None:
    with mocked_aws():
        assert call("GET", "/points/balance", claims=None).status == 401


def test_mocked_aws_puts_back_the_variables_it_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://elsewhere.example")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    before = dict(os.environ)

    with mocked_aws() as provisioned:
        inside = dict(os.environ)

    assert "AWS_PROFILE" not in inside and "AWS_ENDPOINT_URL" not in inside  # nothing leaves the process
    assert inside["AWS_DEFAULT_REGION"] == "us-east-1"
    assert all(inside[name] == value for name, value in provisioned.environment().items())
    assert dict(os.environ) == before
