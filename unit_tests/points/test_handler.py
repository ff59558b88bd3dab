"""The points routes against moto's DynamoDB, called with the events API Gateway sends."""

from __future__ import annotations

from typing import Any

import pytest

from embedded_stack.provision import Provisioned
from lambdas.platform import openapi
from lambdas.points import ledger
from testkit import CALLER_CLAIMS, call, worked_example

OTHER_CALLER = {"sub": "9d8c7b6a-5f4e-4d3c-8b2a-1a0b9c8d7e6f", "email": "other@example.com", "token_use": "id"}


def add(payer: str, points: Any, timestamp: str, claims: dict[str, str] = CALLER_CLAIMS, **headers: str) -> Any:
    return call(
        "POST",
        "/points/transactions",
        {"payer": payer, "points": points, "timestamp": timestamp},
        claims=claims,
        headers=headers,
    )


def load_worked_example(claims: dict[str, str] = CALLER_CLAIMS) -> None:
    for transaction in worked_example.TRANSACTIONS:
        result = add(transaction["payer"], transaction["points"], transaction["timestamp"], claims)
        assert result.status == 201, result.body


def test_the_worked_example(aws: Provisioned) -> None:
    load_worked_example()

    spent = call("POST", "/points/spend", worked_example.SPEND)

    assert spent.status == 200, spent.body
    assert spent.json() == worked_example.SPENT
    balance = call("GET", "/points/balance")
    assert balance.status == 200
    assert balance.json() == worked_example.BALANCE
    assert list(balance.json()) == ["DANNON", "UNILEVER", "MILLER COORS"]


def test_a_transaction_is_answered_with_201_and_its_id(aws: Provisioned) -> None:
    result = add("  DANNON ", 300, "2020-10-31T12:00:00+02:00")

    assert result.status == 201, result.body
    body = result.json()
    assert body == {"id": body["id"], "payer": "DANNON", "points": 300, "timestamp": "2020-10-31T10:00:00Z"}


def test_an_empty_ledger_has_no_payers_and_nothing_to_spend(aws: Provisioned) -> None:
    assert call("GET", "/points/balance").json() == {}
    refused = call("POST", "/points/spend", {"points": 1})
    assert refused.status == 409
    assert [error["field"] for error in refused.json()["errors"]] == ["body.points"]


def test_a_spend_larger_than_the_balance_is_409_and_changes_nothing(aws: Provisioned) -> None:
    load_worked_example()

    refused = call("POST", "/points/spend", {"points": 11301})

    assert refused.status == 409
    assert refused.json()["errors"][0]["field"] == "body.points"
    assert call("GET", "/points/balance").json() == {"DANNON": 1100, "UNILEVER": 200, "MILLER COORS": 10000}
    assert call("POST", "/points/spend", {"points": 11300}).status == 200
    assert set(call("GET", "/points/balance").json().values()) == {0}


def test_a_negative_larger_than_the_payers_balance_is_409_naming_points(aws: Provisioned) -> None:
    add("DANNON", 300, "2020-10-31T10:00:00Z")
    add("UNILEVER", 5000, "2020-10-31T11:00:00Z")

    refused = add("DANNON", -301, "2020-10-31T15:00:00Z")

    assert refused.status == 409
    assert refused.json()["errors"][0]["field"] == "body.points"
    assert "DANNON" not in refused.body
    assert call("GET", "/points/balance").json() == {"DANNON": 300, "UNILEVER": 5000}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payer": "DANNON", "points": 5.5, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": 0.0, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": "5", "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": True, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": 0, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": 1_000_000_001, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": -1_000_000_001, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "DANNON", "points": None, "timestamp": "2020-10-31T10:00:00Z"}, "body.points"),
        ({"payer": "   ", "points": 5, "timestamp": "2020-10-31T10:00:00Z"}, "body.payer"),
        ({"payer": "D" * 101, "points": 5, "timestamp": "2020-10-31T10:00:00Z"}, "body.payer"),
        ({"payer": "DAN\u0000NON", "points": 5, "timestamp": "2020-10-31T10:00:00Z"}, "body.payer"),
        ({"payer": "DANNON", "points": 5, "timestamp": "2020-10-31T10:00:00"}, "body.timestamp"),
        ({"payer": "DANNON", "points": 5, "timestamp": "yesterday"}, "body.timestamp"),
        ({"payer": "DANNON", "points": 5, "timestamp": "1969-12-31T23:59:59Z"}, "body.timestamp"),
        ({"payer": "DANNON", "points": 5, "timestamp": "2101-01-01T00:00:00Z"}, "body.timestamp"),
        ({"payer": "DANNON", "points": 5, "timestamp": 1604138400}, "body.timestamp"),
        ({"payer": "DANNON", "points": 5}, "body.timestamp"),
        (
            {"payer": "DANNON", "points": 5, "timestamp": "2020-10-31T10:00:00Z", "extra": 1},
            "body",
        ),  # unknown keys are never named (never echoed)
    ],
)
def test_an_invalid_transaction_is_400_naming_the_field(aws: Provisioned, body: dict[str, Any], field: str) -> None:
    result = call("POST", "/points/transactions", body)

    assert result.status == 400, result.body
    errors = result.json()["errors"]
    assert [error["field"] for error in errors] == [field]
    assert all(
        error["message"] and "Input should" not in error["message"] for error in errors if field == "body.points"
    )
    assert "D" * 101 not in result.body and "yesterday" not in result.body


@pytest.mark.parametrize("points", [5.5, "5", True, 0, -5, 1_000_000_001, 1e300, None, [5]])
def test_a_spend_takes_only_a_positive_integer(aws: Provisioned, points: Any) -> None:
    result = call("POST", "/points/spend", {"points": points})

    assert result.status == 400, result.body
    assert [error["field"] for error in result.json()["errors"]] == ["body.points"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/points/transactions", '{"payer": "DANNON", "points": 5131.0, "timestamp": "2020-10-31T10:00:00Z"}'),
        ("/points/transactions", '{"payer": "DANNON", "points": 5.131e3, "timestamp": "2020-10-31T10:00:00Z"}'),
        ("/points/spend", '{"points": 5131.0}'),
    ],
)
def test_an_integral_number_is_the_integer_json_schema_says_it_is(aws: Provisioned, path: str, body: str) -> None:
    call("POST", "/points/transactions", {"payer": "DANNON", "points": 10000, "timestamp": "2020-10-30T10:00:00Z"})

    result = call("POST", path, raw_body=body)

    assert result.status in (200, 201), result.body
    assert "5131" in result.body and "5131.0" not in result.body


def test_ledgers_are_per_user(aws: Provisioned) -> None:
    load_worked_example()
    add("OTHER BRAND", 50, "2020-10-30T10:00:00Z", OTHER_CALLER)

    assert call("GET", "/points/balance", claims=OTHER_CALLER).json() == {"OTHER BRAND": 50}
    assert call("POST", "/points/spend", {"points": 51}, claims=OTHER_CALLER).status == 409
    assert call("POST", "/points/spend", {"points": 50}, claims=OTHER_CALLER).json() == [
        {"payer": "OTHER BRAND", "points": -50}
    ]
    assert call("GET", "/points/balance").json() == {"DANNON": 1100, "UNILEVER": 200, "MILLER COORS": 10000}


def test_delete_empties_only_the_callers_ledger(aws: Provisioned) -> None:
    load_worked_example()
    call("POST", "/points/spend", {"points": 5000})
    add("OTHER BRAND", 50, "2020-10-30T10:00:00Z", OTHER_CALLER)

    deleted = call("DELETE", "/points")

    assert deleted.status == 204
    assert deleted.body == ""
    assert call("GET", "/points/balance").json() == {}
    assert call("GET", "/points/transactions").json() == {"items": [], "nextCursor": None}
    assert call("GET", "/points/balance", claims=OTHER_CALLER).json() == {"OTHER BRAND": 50}
    load_worked_example()
    assert call("GET", "/points/balance").json() == {"DANNON": 1100, "UNILEVER": 200, "MILLER COORS": 10000}


def test_routes_need_a_caller(aws: Provisioned) -> None:
    assert call("GET", "/points/balance", claims={}).status == 401


# ---------------------------------------------------------------------------------------------- history


def test_history_lists_transactions_and_spends_newest_first_by_pages(aws: Provisioned) -> None:
    load_worked_example()
    call("POST", "/points/spend", {"points": 5000})

    first = call("GET", "/points/transactions", query={"limit": "4"})
    assert first.status == 200, first.body
    second = call("GET", "/points/transactions", query={"limit": "4", "cursor": first.json()["nextCursor"]})
    assert second.status == 200, second.body

    assert second.json()["nextCursor"] is None
    entries = first.json()["items"] + second.json()["items"]
    assert [(entry["kind"], entry["payer"], entry["points"]) for entry in entries] == [
        ("spend", None, -5000),
        ("transaction", "DANNON", 1000),
        ("transaction", "MILLER COORS", 10000),
        ("transaction", "DANNON", -200),
        ("transaction", "UNILEVER", 200),
        ("transaction", "DANNON", 300),
    ]
    assert entries[0]["consumed"] == [
        {"payer": "DANNON", "points": -100},
        {"payer": "UNILEVER", "points": -200},
        {"payer": "MILLER COORS", "points": -4700},
    ]
    assert entries[1]["timestamp"] == "2020-11-02T14:00:00Z"
    assert entries[1]["consumed"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "101"}, "query.limit"),
        ({"limit": "x"}, "query.limit"),
        ({"cursor": "not-a-cursor!"}, "query.cursor"),
        ({"cursor": "eyJhZnRlciI6MX0"}, "query.cursor"),
    ],
)
def test_an_invalid_history_query_is_400(aws: Provisioned, query: dict[str, str], field: str) -> None:
    result = call("GET", "/points/transactions", query=query)

    assert result.status == 400, result.body
    assert [error["field"] for error in result.json()["errors"]] == [field]


# ---------------------------------------------------------------------------------------------- idempotency


def test_a_spend_replayed_with_its_key_answers_the_same_and_spends_once(aws: Provisioned) -> None:
    load_worked_example()

    first = call("POST", "/points/spend", {"points": 5000}, headers={"Idempotency-Key": "spend-1"})
    again = call("POST", "/points/spend", {"points": 5000}, headers={"Idempotency-Key": "spend-1"})

    assert first.status == again.status == 200
    assert again.json() == first.json()
    assert call("GET", "/points/balance").json() == {"DANNON": 1000, "UNILEVER": 0, "MILLER COORS": 5300}
    kinds = [entry["kind"] for entry in call("GET", "/points/transactions").json()["items"]]
    assert kinds.count("spend") == 1


def test_a_retry_that_writes_the_number_as_5000_0_is_the_same_request(aws: Provisioned) -> None:
    load_worked_example()

    first = call("POST", "/points/spend", {"points": 5000}, headers={"Idempotency-Key": "spend-2"})
    again = call("POST", "/points/spend", raw_body='{"points": 5000.0}', headers={"Idempotency-Key": "spend-2"})

    assert first.status == again.status == 200, again.body
    assert again.json() == first.json()
    assert call("GET", "/points/balance").json() == {"DANNON": 1000, "UNILEVER": 0, "MILLER COORS": 5300}


def test_a_transaction_replayed_with_its_key_is_recorded_once(aws: Provisioned) -> None:
    first = add("DANNON", 300, "2020-10-31T10:00:00Z", **{"Idempotency-Key": "tx-1"})
    again = add("DANNON", 300, "2020-10-31T10:00:00Z", **{"Idempotency-Key": "tx-1"})

    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert call("GET", "/points/balance").json() == {"DANNON": 300}


def test_one_key_with_another_body_is_422(aws: Provisioned) -> None:
    add("DANNON", 300, "2020-10-31T10:00:00Z", **{"Idempotency-Key": "tx-2"})

    reused = add("DANNON", 301, "2020-10-31T10:00:00Z", **{"Idempotency-Key": "tx-2"})

    assert reused.status == 422
    assert [error["field"] for error in reused.json()["errors"]] == ["header.Idempotency-Key"]
    assert call("GET", "/points/balance").json() == {"DANNON": 300}


def test_keys_are_per_user_and_per_route(aws: Provisioned) -> None:
    add("DANNON", 300, "2020-10-31T10:00:00Z", **{"Idempotency-Key": "shared"})
    add("DANNON", 300, "2020-10-31T10:00:00Z", OTHER_CALLER, **{"Idempotency-Key": "shared"})
    spent = call("POST", "/points/spend", {"points": 10}, headers={"Idempotency-Key": "shared"})

    assert spent.status == 200, spent.body
    assert call("GET", "/points/balance").json() == {"DANNON": 290}
    assert call("GET", "/points/balance", claims=OTHER_CALLER).json() == {"DANNON": 300}


def test_a_refused_spend_is_not_remembered_under_its_key(aws: Provisioned) -> None:
    refused = call("POST", "/points/spend", {"points": 10}, headers={"Idempotency-Key": "early"})
    add("DANNON", 300, "2020-10-31T10:00:00Z")
    retried = call("POST", "/points/spend", {"points": 10}, headers={"Idempotency-Key": "early"})

    assert refused.status == 409
    assert retried.status == 200


@pytest.mark.parametrize("key", ["", "with space", "ünïcode", "k" * 256])
def test_a_malformed_idempotency_key_is_400(aws: Provisioned, key: str) -> None:
    result = call("POST", "/points/spend", {"points": 1}, headers={"Idempotency-Key": key})

    assert result.status == 400, result.body
    assert [error["field"] for error in result.json()["errors"]] == ["header.Idempotency-Key"]


def test_a_spend_out_of_time_to_retry_is_429_with_retry_after(aws: Provisioned, monkeypatch) -> None:
    assert add("A", 100, "2020-01-01T00:00:00Z").status == 201
    # A competing addition lands between the spend's read and its write, and the function has no time to wait.
    monkeypatch.setattr(ledger, "interleave", lambda stage: add("B", 1, "2030-01-01T00:00:00Z"))
    monkeypatch.setattr(ledger, "MARGIN_MS", 10**9)

    busy = call("POST", "/points/spend", {"points": 10})

    assert busy.status == 429
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["message"] == ledger.BUSY
    monkeypatch.setattr(ledger, "interleave", lambda stage: None)
    assert call("GET", "/points/balance").json() == {"A": 100, "B": 1}


def test_the_document_says_a_busy_ledger_answers_429_with_retry_after() -> None:
    operations = openapi.document()["paths"]
    for path, method in [("/points/spend", "post"), ("/points/transactions", "post"), ("/points/balance", "get")]:
        assert "Retry-After" in operations[path][method]["responses"]["429"]["headers"], path
