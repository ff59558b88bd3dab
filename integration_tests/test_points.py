"""The points ledger over HTTP, against any stack. Each test signs up its own user: a ledger is per user."""

from __future__ import annotations

import uuid

import pytest

from integration_tests.auth_fixtures import SignedInUser, sign_up_and_log_in
from integration_tests.conftest import Api
from testkit import worked_example


@pytest.fixture
def member(api: Api) -> SignedInUser:
    return sign_up_and_log_in(api)


def load_worked_example(api: Api, member: SignedInUser) -> None:
    for transaction in worked_example.TRANSACTIONS:
        response = api.post("/points/transactions", json=transaction, headers=member.headers)
        assert response.status_code == 201, response.text
        assert response.json() == {"id": response.json()["id"], **transaction}


def test_the_worked_example(api: Api, member: SignedInUser) -> None:
    load_worked_example(api, member)

    spent = api.post("/points/spend", json=worked_example.SPEND, headers=member.headers)

    assert spent.status_code == 200, spent.text
    assert spent.json() == worked_example.SPENT
    balance = api.get("/points/balance", headers=member.headers)
    assert balance.status_code == 200
    assert balance.json() == worked_example.BALANCE
    history = api.get("/points/transactions", params={"limit": "2"}, headers=member.headers)
    assert history.status_code == 200
    assert [entry["kind"] for entry in history.json()["items"]] == ["spend", "transaction"]
    rest = api.get("/points/transactions", params={"cursor": history.json()["nextCursor"]}, headers=member.headers)
    assert len(rest.json()["items"]) == 4
    assert rest.json()["nextCursor"] is None


def test_too_many_points_is_409_and_a_fraction_is_400(api: Api, member: SignedInUser) -> None:
    load_worked_example(api, member)

    too_many = api.post("/points/spend", json={"points": 11301}, headers=member.headers)
    decimal = api.post("/points/spend", data='{"points": 5.5}', headers=member.headers)

    assert too_many.status_code == 409
    assert too_many.json()["errors"][0]["field"] == "body.points"
    assert decimal.status_code == 400
    assert decimal.json()["errors"][0]["field"] == "body.points"
    assert api.get("/points/balance", headers=member.headers).json()["MILLER COORS"] == 10000


def test_an_integral_number_counts_as_the_integer_json_schema_says_it_is(api: Api, member: SignedInUser) -> None:
    load_worked_example(api, member)

    spent = api.post("/points/spend", data='{"points": 5000.0}', headers=member.headers)

    assert spent.status_code == 200, spent.text
    assert sum(entry["points"] for entry in spent.json()) == -5000
    assert api.get("/points/balance", headers=member.headers).json()["MILLER COORS"] == 5300


def test_a_retry_with_the_same_idempotency_key_spends_once(api: Api, member: SignedInUser) -> None:
    load_worked_example(api, member)
    headers = {**member.headers, "Idempotency-Key": str(uuid.uuid4())}

    first = api.post("/points/spend", json={"points": 5000}, headers=headers)
    retry = api.post("/points/spend", json={"points": 5000}, headers=headers)
    other_body = api.post("/points/spend", json={"points": 1}, headers=headers)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert other_body.status_code == 422
    assert other_body.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert api.get("/points/balance", headers=member.headers).json() == {
        "DANNON": 1000,
        "UNILEVER": 0,
        "MILLER COORS": 5300,
    }


def test_ledgers_are_per_user_and_delete_empties_only_ones_own(api: Api, member: SignedInUser) -> None:
    other = sign_up_and_log_in(api)
    load_worked_example(api, member)
    key = {"Idempotency-Key": "same-key-for-both"}
    mine = api.post("/points/transactions", json=worked_example.TRANSACTIONS[0], headers={**member.headers, **key})
    theirs = api.post("/points/transactions", json=worked_example.TRANSACTIONS[0], headers={**other.headers, **key})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]

    assert api.get("/points/balance", headers=other.headers).json() == {"DANNON": 300}
    deleted = api.delete("/points", headers=member.headers)

    assert deleted.status_code == 204
    assert api.get("/points/balance", headers=member.headers).json() == {}
    assert api.get("/points/transactions", headers=member.headers).json() == {"items": [], "nextCursor": None}
    assert api.get("/points/balance", headers=other.headers).json() == {"DANNON": 300}


def test_points_need_a_token(api: Api) -> None:
    assert api.get("/points/balance").status_code == 401
