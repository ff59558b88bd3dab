"""The SLA error service over HTTP, against any stack: unique file names and instants per test, no order.

Lists read DynamoDB indexes, which AWS updates a moment after a write: list checks poll briefly.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integration_tests.auth_fixtures import SignedInUser
from integration_tests.conftest import Api


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours)


def unique_file() -> str:
    return f"it/{uuid.uuid4().hex}.csv"


def breach(**overrides: Any) -> dict[str, Any]:
    return {"fileName": unique_file(), "expectedAt": iso(hours_ago(3)), **overrides}


def post(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = api.post("/sla-errors", json=breach(**overrides), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def list_ids(api: Api, headers: dict[str, str], **query: str) -> list[str]:
    response = api.get("/sla-errors", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# ---------------------------------------------------------------------------------------------- record and read


def test_record_then_get(api: Api, auth_headers: dict[str, str], user: SignedInUser) -> None:
    expected = hours_ago(5)
    body = breach(
        expectedAt=iso(expected),
        receivedAt=iso(expected + timedelta(minutes=42)),
        severity="critical",
        message="late",
        source="it",
    )

    created = api.post("/sla-errors", json=body, headers=auth_headers)

    assert created.status_code == 200, created.text
    record = created.json()
    assert record["delayMinutes"] == 42
    assert record["reportedBy"] == user.user_id
    assert record["fileName"] == body["fileName"]
    assert record["severity"] == "critical"
    fetched = api.get(f"/sla-errors/{record['id']}", headers=auth_headers)
    assert fetched.status_code == 200
    assert fetched.json() == record


def test_a_missing_file_is_late_until_now(api: Api, auth_headers: dict[str, str]) -> None:
    record = post(api, auth_headers, expectedAt=iso(hours_ago(2)))

    assert record["receivedAt"] is None
    assert record["severity"] == "medium"
    assert 119 <= record["delayMinutes"] <= 121


def test_records_are_visible_to_every_signed_in_user(
    api: Api, auth_headers: dict[str, str], other_user: SignedInUser
) -> None:
    record = post(api, auth_headers)

    assert api.get(f"/sla-errors/{record['id']}", headers=other_user.headers).json() == record
    ids = eventually(lambda: list_ids(api, other_user.headers, fileName=record["fileName"]), lambda ids: ids)
    assert ids == [record["id"]]


# ---------------------------------------------------------------------------------------------- lists


def test_a_files_list_is_newest_first_and_pages_with_the_cursor(api: Api, auth_headers: dict[str, str]) -> None:
    name = unique_file()
    created = [post(api, auth_headers, fileName=name, expectedAt=iso(hours_ago(hours))) for hours in (5, 1, 3, 2, 4)]
    newest_first = [record["id"] for record in sorted(created, key=lambda record: record["expectedAt"], reverse=True)]
    eventually(lambda: list_ids(api, auth_headers, fileName=name, limit="100"), lambda ids: len(ids) == 5)

    seen: list[str] = []
    pages = 0
    params: dict[str, str] = {"fileName": name, "limit": "2"}
    while True:
        page = api.get("/sla-errors", params=params, headers=auth_headers)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        pages += 1
        if page.json()["nextCursor"] is None:
            break
        params["cursor"] = page.json()["nextCursor"]
        assert pages < 10

    assert seen == newest_first
    assert pages == 3


def test_a_window_on_expected_at_across_all_files(api: Api, auth_headers: dict[str, str]) -> None:
    # An instant no other test or run uses: a random microsecond in 2001.
    instant = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(microseconds=random.randrange(365 * 86400 * 10**6))
    inside = post(api, auth_headers, expectedAt=iso(instant))
    post(api, auth_headers, expectedAt=iso(instant + timedelta(microseconds=1)))
    post(api, auth_headers, expectedAt=iso(instant - timedelta(microseconds=1)))

    ids = eventually(lambda: list_ids(api, auth_headers, **{"from": iso(instant), "to": iso(instant)}), bool)

    assert ids == [inside["id"]]


def test_the_window_filters_a_files_list(api: Api, auth_headers: dict[str, str]) -> None:
    name = unique_file()
    records = {hours: post(api, auth_headers, fileName=name, expectedAt=iso(hours_ago(hours))) for hours in (1, 2, 3)}
    eventually(lambda: list_ids(api, auth_headers, fileName=name), lambda ids: len(ids) == 3)

    # The record's own instant: `hours_ago(2)` again would be a second later if the clock ticked meanwhile.
    instant = records[2]["expectedAt"]
    ids = list_ids(api, auth_headers, fileName=name, **{"from": instant, "to": instant})

    assert ids == [records[2]["id"]]


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fileName": ""}, "body.fileName"),
        ({"fileName": "x" * 513}, "body.fileName"),
        ({"expectedAt": "2024-05-01T06:00:00"}, "body.expectedAt"),
        ({"expectedAt": "2024-05-01"}, "body.expectedAt"),
        ({"expectedAt": "not a date"}, "body.expectedAt"),
        ({"expectedAt": "2024-02-30T06:00:00Z"}, "body.expectedAt"),
        ({"expectedAt": 1714543200}, "body.expectedAt"),
        ({"expectedAt": "2999-01-01T00:00:00Z"}, "body.expectedAt"),
        ({"receivedAt": "2024-05-01T06:00:00"}, "body.receivedAt"),
        ({"receivedAt": "2999-01-01T00:00:00Z"}, "body.receivedAt"),
        ({"severity": "urgent"}, "body.severity"),
        ({"message": "x" * 2001}, "body.message"),
        ({"source": "x" * 201}, "body.source"),
        ({"delayMinutes": 5}, "body"),  # unknown fields are never named: the key is input
    ],
)
def test_an_invalid_breach_is_400(api: Api, auth_headers: dict[str, str], change: dict[str, Any], field: str) -> None:
    response = api.post("/sla-errors", json=breach(**change), headers=auth_headers)

    assert response.status_code == 400, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert response.json()["requestId"]


def test_a_breach_received_before_it_was_due_is_422(api: Api, auth_headers: dict[str, str]) -> None:
    times = {"expectedAt": "2024-05-01T06:00:00Z", "receivedAt": "2024-05-01T05:00:00Z"}
    response = api.post("/sla-errors", json=breach(**times), headers=auth_headers)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["body.receivedAt"]


def test_a_window_ending_before_it_starts_is_422(api: Api, auth_headers: dict[str, str]) -> None:
    window = {"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"}
    response = api.get("/sla-errors", params=window, headers=auth_headers)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["query.to"]


def test_a_breach_that_is_not_json_is_400(api: Api, auth_headers: dict[str, str]) -> None:
    response = api.post("/sla-errors", data="{oops", headers={**auth_headers, "Content-Type": "application/json"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "101"}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"from": "2024-05-01"}, "query.from"),
        ({"to": "2024-05-01T06:00:00"}, "query.to"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": "eyJhZnRlciI6IDF9"}, "query.cursor"),
    ],
)
def test_an_invalid_list_query_is_400(
    api: Api, auth_headers: dict[str, str], query: dict[str, str], field: str
) -> None:
    response = api.get("/sla-errors", params=query, headers=auth_headers)

    assert response.status_code == 400, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_cursor_from_another_list_is_400(api: Api, auth_headers: dict[str, str]) -> None:
    name = unique_file()
    for hours in (1, 2):
        post(api, auth_headers, fileName=name, expectedAt=iso(hours_ago(hours)))
    eventually(lambda: list_ids(api, auth_headers, fileName=name), lambda ids: len(ids) == 2)
    cursor = api.get("/sla-errors", params={"fileName": name, "limit": "1"}, headers=auth_headers).json()["nextCursor"]
    assert cursor

    response = api.get("/sla-errors", params={"fileName": unique_file(), "cursor": cursor}, headers=auth_headers)

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["query.cursor"]


def test_an_unknown_id_is_404_and_a_malformed_one_400(api: Api, auth_headers: dict[str, str]) -> None:
    assert api.get(f"/sla-errors/{uuid.uuid4()}", headers=auth_headers).status_code == 404
    assert api.get("/sla-errors/not-an-id", headers=auth_headers).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/sla-errors"), ("GET", "/sla-errors"), ("GET", f"/sla-errors/{uuid.uuid4()}")],
    ids=["create", "list", "read"],
)
def test_every_route_needs_a_token(api: Api, method: str, path: str) -> None:
    response = api.request(method, path, json=breach() if method == "POST" else None)

    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized"


def test_a_wrong_method_is_405(api: Api, auth_headers: dict[str, str]) -> None:
    assert api.delete("/sla-errors", headers=auth_headers).status_code == 405
