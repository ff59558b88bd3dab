"""The SLA error routes against moto's DynamoDB, called with the events API Gateway sends."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from embedded_stack.provision import Provisioned
from lambdas import catalog
from lambdas.shared.aws import client
from lambdas.sla_errors import store
from lambdas.sla_errors.models import NewSlaError
from testkit import CALLER_CLAIMS, call

OTHER_CALLER = {"sub": "9d8c7b6a-5f4e-4d3c-8b2a-1a0b9c8d7e6f", "email": "other@example.com", "token_use": "id"}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours)


def breach(**overrides: Any) -> dict[str, Any]:
    return {"fileName": f"daily-{uuid.uuid4().hex[:8]}.csv", "expectedAt": iso(hours_ago(3)), **overrides}


def record(claims: dict[str, str] = CALLER_CLAIMS, **overrides: Any) -> dict[str, Any]:
    result = call("POST", "/sla-errors", breach(**overrides), claims=claims)
    assert result.status == 200, result.body
    return result.json()


def listing(claims: dict[str, str] = CALLER_CLAIMS, **query: str) -> Any:
    return call("GET", "/sla-errors", query=query, claims=claims)


# ---------------------------------------------------------------------------------------------- record


def test_a_breach_is_recorded_and_answered_with_200(aws: Provisioned) -> None:
    expected = hours_ago(3)
    received = expected + timedelta(minutes=95, seconds=30)
    body = {
        "fileName": "  payments/2024-05-01.csv ",
        "expectedAt": iso(expected),
        "receivedAt": received.astimezone(ZoneInfo("Europe/Paris")).isoformat(),
        "severity": "high",
        "message": "Arrived late\nafter a retry",
        "source": "sftp-monitor",
    }

    result = call("POST", "/sla-errors", body)

    assert result.status == 200, result.body
    created = result.json()
    assert created == {
        "id": created["id"],
        "fileName": "payments/2024-05-01.csv",
        "expectedAt": iso(expected),
        "receivedAt": iso(received),
        "severity": "high",
        "message": "Arrived late\nafter a retry",
        "source": "sftp-monitor",
        "delayMinutes": 95,
        "reportedBy": CALLER_CLAIMS["sub"],
        "reportedAt": created["reportedAt"],
    }
    assert uuid.UUID(created["id"]).version == 4
    reported_at = datetime.fromisoformat(created["reportedAt"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - reported_at) < timedelta(seconds=10)


def test_the_defaults_and_a_file_that_has_not_arrived(aws: Provisioned) -> None:
    created = record(expectedAt=iso(hours_ago(2)))

    assert created["severity"] == "medium"
    assert created["receivedAt"] is None
    assert created["message"] is None and created["source"] is None
    assert created["delayMinutes"] in (119, 120)


def test_the_stored_item_has_the_index_keys(aws: Provisioned) -> None:
    created = record(expectedAt="2024-05-01T08:00:00+02:00", receivedAt="2024-05-01T07:00:00Z")

    item = client("dynamodb").get_item(TableName=aws.tables["sla_errors"], Key={"id": {"S": created["id"]}})["Item"]

    assert item["bucket"] == {"S": "all"}
    assert item["fileName"] == {"S": created["fileName"]}
    assert item["expectedAtId"] == {"S": f"2024-05-01T06:00:00.000000Z#{created['id']}"}
    assert "message" not in item  # absent, not NULL


def test_empty_optional_texts_are_absent(aws: Provisioned) -> None:
    created = record(message="   ", source="")

    assert created["message"] is None and created["source"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fileName": ""}, "body.fileName"),
        ({"fileName": "   "}, "body.fileName"),
        ({"fileName": "x" * 513}, "body.fileName"),
        ({"fileName": "a\u0000b.csv"}, "body.fileName"),
        ({"fileName": "a\nb.csv"}, "body.fileName"),
        ({"fileName": None}, "body.fileName"),
        ({"fileName": 42}, "body.fileName"),
        ({"expectedAt": "2024-05-01T06:00:00"}, "body.expectedAt"),
        ({"expectedAt": "2024-05-01"}, "body.expectedAt"),
        ({"expectedAt": "yesterday"}, "body.expectedAt"),
        ({"expectedAt": "2024-02-30T06:00:00Z"}, "body.expectedAt"),
        ({"expectedAt": 1714543200}, "body.expectedAt"),
        ({"expectedAt": None}, "body.expectedAt"),
        ({"receivedAt": "2024-05-01T06:00:00"}, "body.receivedAt"),
        ({"receivedAt": "soon"}, "body.receivedAt"),
        ({"severity": "urgent"}, "body.severity"),
        ({"severity": "HIGH"}, "body.severity"),
        ({"severity": None}, "body.severity"),
        ({"message": "x" * 2001}, "body.message"),
        ({"message": "bell\u0007"}, "body.message"),
        ({"source": "x" * 201}, "body.source"),
        ({"source": "a\tb"}, "body.source"),
        ({"reportedBy": "someone-else"}, "body"),  # an unknown field: never named, since the key is input
        ({"id": str(uuid.uuid4())}, "body"),
        ({"delayMinutes": 1}, "body"),
    ],
)
def test_invalid_breaches_are_400_naming_the_field(aws: Provisioned, change: dict[str, Any], field: str) -> None:
    result = call("POST", "/sla-errors", breach(**change))

    assert result.status == 400, result.body
    assert field in [error["field"] for error in result.json()["errors"]]
    assert result.json()["requestId"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expectedAt": iso(datetime.now(UTC) + timedelta(hours=1))}, "body.expectedAt"),
        ({"receivedAt": iso(hours_ago(4))}, "body.receivedAt"),  # before expectedAt (3 h ago)
        ({"receivedAt": iso(datetime.now(UTC) + timedelta(hours=1))}, "body.receivedAt"),
    ],
)
def test_breaches_that_cannot_have_happened_are_422_naming_the_field(
    aws: Provisioned, change: dict[str, Any], field: str
) -> None:
    result = call("POST", "/sla-errors", breach(**change))

    assert result.status == 422, result.body
    assert [error["field"] for error in result.json()["errors"]] == [field]


@pytest.mark.parametrize("missing", ["fileName", "expectedAt"])
def test_a_required_field_missing_is_400(aws: Provisioned, missing: str) -> None:
    body = breach()
    del body[missing]

    result = call("POST", "/sla-errors", body)

    assert result.status == 400
    assert [error["field"] for error in result.json()["errors"]] == [f"body.{missing}"]


@pytest.mark.parametrize("raw", ["{oops", "[]", '"text"', ""])
def test_a_body_that_is_not_a_json_object_is_400(aws: Provisioned, raw: str) -> None:
    assert call("POST", "/sla-errors", raw_body=raw).status == 400


def test_the_longest_values_are_accepted(aws: Provisioned) -> None:
    created = record(fileName="f" * 512, message="m" * 2000, source="s" * 200)

    assert len(created["fileName"]) == 512


# ---------------------------------------------------------------------------------------------- get


def test_get_answers_the_record_to_any_caller(aws: Provisioned) -> None:
    created = record()

    mine = call("GET", f"/sla-errors/{created['id']}")
    theirs = call("GET", f"/sla-errors/{created['id'].upper()}", claims=OTHER_CALLER)

    assert mine.status == theirs.status == 200
    assert mine.json() == theirs.json() == created


def test_an_unknown_id_is_404_and_a_malformed_one_400(aws: Provisioned) -> None:
    unknown = call("GET", f"/sla-errors/{uuid.uuid4()}")
    malformed = call("GET", "/sla-errors/12345")

    assert unknown.status == 404
    assert unknown.json()["requestId"]
    assert malformed.status == 400
    assert [error["field"] for error in malformed.json()["errors"]] == ["path.id"]


# ---------------------------------------------------------------------------------------------- list


def test_the_list_is_newest_first_and_visible_to_every_caller(aws: Provisioned) -> None:
    name = f"orders-{uuid.uuid4().hex[:6]}.csv"
    oldest = record(fileName=name, expectedAt=iso(hours_ago(30)))
    newest = record(fileName=name, expectedAt=iso(hours_ago(1)), claims=OTHER_CALLER)
    middle = record(fileName=name, expectedAt=iso(hours_ago(5)))

    result = listing(claims=OTHER_CALLER)

    assert result.status == 200
    assert result.json()["items"] == [newest, middle, oldest]
    assert result.json()["nextCursor"] is None


def test_the_list_filters_by_file_name(aws: Provisioned) -> None:
    name = f"orders-{uuid.uuid4().hex[:6]}.csv"
    wanted = [record(fileName=name, expectedAt=iso(hours_ago(hours))) for hours in (2, 1)]
    record(fileName=f"{name}.bak")
    record(fileName=name.upper())

    result = listing(fileName=name)

    assert [item["id"] for item in result.json()["items"]] == [wanted[1]["id"], wanted[0]["id"]]


def test_the_list_filters_by_an_inclusive_window_on_expected_at(aws: Provisioned) -> None:
    name = f"window-{uuid.uuid4().hex[:6]}.csv"
    at = {hours: record(fileName=name, expectedAt=iso(hours_ago(hours))) for hours in (1, 2, 3, 4, 5)}
    # The records' own instants: `hours_ago` again would be a second later if the clock ticked meanwhile.
    start, end = at[4]["expectedAt"], at[2]["expectedAt"]

    both = listing(fileName=name, **{"from": start, "to": end}).json()["items"]
    from_only = listing(fileName=name, **{"from": start}).json()["items"]
    to_only = listing(fileName=name, to=end).json()["items"]
    everywhere = listing(**{"from": start, "to": end}).json()["items"]

    assert [item["id"] for item in both] == [at[2]["id"], at[3]["id"], at[4]["id"]]
    assert [item["id"] for item in from_only] == [at[hours]["id"] for hours in (1, 2, 3, 4)]
    assert [item["id"] for item in to_only] == [at[hours]["id"] for hours in (2, 3, 4, 5)]
    assert [item["id"] for item in both] == [item["id"] for item in everywhere if item["fileName"] == name]


def test_the_window_accepts_any_time_zone(aws: Provisioned) -> None:
    name = f"zone-{uuid.uuid4().hex[:6]}.csv"
    created = record(fileName=name, expectedAt="2024-05-01T06:00:00Z")

    result = listing(fileName=name, **{"from": "2024-05-01T08:00:00+02:00", "to": "2024-05-01T01:00:00-05:00"})

    assert [item["id"] for item in result.json()["items"]] == [created["id"]]


@pytest.mark.parametrize(("count", "limit", "pages"), [(5, 2, [2, 2, 1]), (4, 2, [2, 2]), (3, 5, [3]), (1, 1, [1])])
def test_pages_follow_the_cursor_to_the_end(aws: Provisioned, count: int, limit: int, pages: list[int]) -> None:
    name = f"paged-{uuid.uuid4().hex[:6]}.csv"
    same_instant = iso(hours_ago(2))
    created = [record(fileName=name, expectedAt=same_instant if n % 2 else iso(hours_ago(n + 3))) for n in range(count)]
    seen: list[dict[str, Any]] = []
    sizes: list[int] = []
    cursor: str | None = None

    while True:
        query = {"fileName": name, "limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        page = listing(**query).json()
        seen += page["items"]
        sizes.append(len(page["items"]))
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert sizes == pages  # no empty last page
    assert sorted(item["id"] for item in seen) == sorted(item["id"] for item in created)
    keys = [(item["expectedAt"], item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True)


def test_the_default_page_is_20_and_the_limit_at_most_100(aws: Provisioned) -> None:
    name = f"many-{uuid.uuid4().hex[:6]}.csv"
    for minutes in range(21):
        record(fileName=name, expectedAt=iso(hours_ago(minutes / 60 + 1)))

    first = listing(fileName=name).json()
    assert len(first["items"]) == 20 and first["nextCursor"]
    assert len(listing(fileName=name, limit="100").json()["items"]) == 21


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "101"}, "query.limit"),
        ({"limit": "-1"}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"limit": "2.5"}, "query.limit"),
        ({"from": "2024-05-01"}, "query.from"),
        ({"from": "2024-05-01T06:00:00"}, "query.from"),
        ({"to": "tomorrow"}, "query.to"),
        ({"fileName": ""}, "query.fileName"),
        ({"fileName": "x" * 513}, "query.fileName"),
        ({"cursor": "garbage"}, "query.cursor"),
        ({"cursor": ""}, "query.cursor"),
        ({"cursor": "eyJhZnRlciI6ICJ4In0"}, "query.cursor"),  # {"after": "x"}
    ],
)
def test_invalid_list_queries_are_400(aws: Provisioned, query: dict[str, str], field: str) -> None:
    result = listing(**query)

    assert result.status == 400, result.body
    assert field in [error["field"] for error in result.json()["errors"]]


def test_a_window_ending_before_it_starts_is_422(aws: Provisioned) -> None:
    result = listing(**{"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"})

    assert result.status == 422, result.body
    assert [error["field"] for error in result.json()["errors"]] == ["query.to"]


def test_a_cursor_is_refused_with_other_filters(aws: Provisioned) -> None:
    name = f"switch-{uuid.uuid4().hex[:6]}.csv"
    for hours in (1, 2):
        record(fileName=name, expectedAt=iso(hours_ago(hours)))
    cursor = listing(fileName=name, limit="1").json()["nextCursor"]

    assert listing(fileName=name, limit="1", cursor=cursor).status == 200
    assert listing(fileName=f"{name}x", limit="1", cursor=cursor).status == 400
    assert listing(limit="1", cursor=cursor).status == 400


def test_lists_query_an_index_and_never_scan(aws: Provisioned, dynamodb_calls: Counter[str]) -> None:
    name = f"query-{uuid.uuid4().hex[:6]}.csv"
    record(fileName=name)

    listing()
    listing(fileName=name, **{"from": iso(hours_ago(10))})

    assert dynamodb_calls["Query"] == 2
    assert dynamodb_calls["Scan"] == 0


def test_the_function_calls_only_what_its_role_allows(aws: Provisioned, dynamodb_calls: Counter[str]) -> None:
    created = record()
    call("GET", f"/sla-errors/{created['id']}")
    listing(fileName=created["fileName"])
    listing()

    granted = {action.removeprefix("dynamodb:") for access in catalog.SLA_ERRORS.tables for action in access.actions}
    assert set(dynamodb_calls) == granted == {"PutItem", "GetItem", "Query"}


# ---------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/sla-errors"), ("GET", "/sla-errors"), ("GET", f"/sla-errors/{uuid.uuid4()}")],
    ids=["create", "list", "read"],
)
def test_without_authorizer_claims_every_route_is_401(aws: Provisioned, method: str, path: str) -> None:
    result = call(method, path, breach() if method == "POST" else None, claims={})

    assert result.status == 401


def test_an_internal_fault_is_500_with_the_request_id_and_no_internals(
    aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(catalog.SLA_ERRORS_TABLE.env_var, "no-such-table")

    result = call("POST", "/sla-errors", breach())

    assert result.status == 500
    assert set(result.json()) == {"message", "requestId"}
    assert "no-such-table" not in result.body and "ResourceNotFound" not in result.body


def test_a_taken_id_is_drawn_again(aws: Provisioned) -> None:
    taken = record()["id"]
    fresh = str(uuid.uuid4())
    ids = iter([taken, fresh])
    new = NewSlaError.model_validate(breach())

    stored = store.record(new, reporter=CALLER_CLAIMS["sub"], now=datetime.now(UTC), new_id=lambda: next(ids))

    assert stored.id == fresh
    assert call("GET", f"/sla-errors/{taken}").json()["fileName"] != new.file_name  # the first is untouched


def test_no_free_id_is_a_fault(aws: Provisioned) -> None:
    taken = record()["id"]
    new = NewSlaError.model_validate(breach())

    with pytest.raises(RuntimeError, match="no free SLA error id"):
        store.record(new, reporter=CALLER_CLAIMS["sub"], now=datetime.now(UTC), new_id=lambda: taken)
