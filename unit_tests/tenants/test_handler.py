from __future__ import annotations

import uuid
from collections import Counter

import pytest
from botocore.stub import Stubber

from embedded_stack.provision import Provisioned
from lambdas.shared import pagination
from lambdas.shared.api import INTERNAL_ERROR
from lambdas.shared.aws import client
from lambdas.tenants import store
from testkit import CALLER_CLAIMS, call

ADMIN_CLAIMS = {"sub": "0d7c1c2e-7a4b-4b1e-8f0a-9d8e7f6a5b4c", "email": "admin@example.com", "cognito:groups": "admins"}
OTHER_CLAIMS = {"sub": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "email": "other@example.com"}
NEW_TENANT = {"name": "  Acme Corp ", "website": "https://Acme.example/about", "contactEmail": "ops@acme.example"}


def unique_tenant(**overrides: str) -> dict[str, str]:
    return {**NEW_TENANT, "website": f"{uuid.uuid4().hex[:12]}.example", **overrides}


def test_create_answers_201_with_the_tenant_and_its_location(aws: Provisioned) -> None:
    result = call("POST", "/tenants", NEW_TENANT)

    assert result.status == 201, result.body
    tenant = result.json()
    assert tenant == {
        "id": tenant["id"],
        "name": "Acme Corp",
        "website": "acme.example",
        "contactEmail": "ops@acme.example",
        "plan": "free",
        "owner": CALLER_CLAIMS["sub"],
    }
    assert uuid.UUID(tenant["id"]).version == 4
    assert result.headers["Location"] == f"/tenants/{tenant['id']}"


def test_create_stores_timestamps_but_never_returns_them(aws: Provisioned) -> None:
    tenant = call("POST", "/tenants", unique_tenant(plan="pro"), claims=ADMIN_CLAIMS).json()

    item = client("dynamodb").get_item(TableName=aws.tables["tenants"], Key={"pk": {"S": f"TENANT#{tenant['id']}"}})
    created, updated = item["Item"]["createdAt"]["S"], item["Item"]["updatedAt"]["S"]
    assert created == updated and created.endswith("Z") and "T" in created
    fetched = call("GET", f"/tenants/{tenant['id']}", claims=ADMIN_CLAIMS).json()
    assert fetched == tenant
    assert "createdAt" not in fetched and "updatedAt" not in fetched


def test_create_is_one_write_call_and_no_read(dynamodb_calls: Counter[str]) -> None:
    assert call("POST", "/tenants", unique_tenant()).status == 201

    assert dynamodb_calls == Counter({"TransactWriteItems": 1})


def test_same_website_twice_is_409_and_writes_nothing(aws: Provisioned) -> None:
    first = call("POST", "/tenants", unique_tenant(website="dup.example"))
    second = call("POST", "/tenants", unique_tenant(website="https://DUP.example/"))

    assert first.status == 201
    assert second.status == 409
    assert second.json()["message"] == "A tenant with this website already exists: each website belongs to one tenant."
    assert second.json()["errors"] == [{"field": "body.website", "message": "is already registered to a tenant"}]
    assert "dup.example" not in second.body
    items = client("dynamodb").scan(TableName=aws.tables["tenants"])["Items"]
    assert len(items) == 2  # the first tenant and its website reservation only


@pytest.mark.parametrize("again", ["xn--bcher-kva.{}.example", "BÜCHER.{}.example", "http://bücher.{}.example./"])
def test_two_spellings_of_one_international_website_are_one_website(aws: Provisioned, again: str) -> None:
    unique = uuid.uuid4().hex[:8]
    first = call("POST", "/tenants", unique_tenant(website=f"bücher.{unique}.example"))
    second = call("POST", "/tenants", unique_tenant(website=again.format(unique)))

    assert first.status == 201, first.body
    assert first.json()["website"] == f"xn--bcher-kva.{unique}.example"
    assert second.status == 409, second.body


def test_an_id_collision_retries_with_a_new_id(aws: Provisioned, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = call("POST", "/tenants", unique_tenant()).json()["id"]
    ids = iter([taken, taken, "0b7e6a52-8a1c-4f7e-9d51-3f0e2f8c9a10"])
    monkeypatch.setattr(store, "uuid4", lambda: next(ids))

    result = call("POST", "/tenants", unique_tenant())

    assert result.status == 201
    assert result.json()["id"] == "0b7e6a52-8a1c-4f7e-9d51-3f0e2f8c9a10"


def test_ids_that_never_come_free_are_a_500_without_internals(
    aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = call("POST", "/tenants", unique_tenant()).json()["id"]
    monkeypatch.setattr(store, "uuid4", lambda: taken)

    result = call("POST", "/tenants", unique_tenant())

    assert result.status == 500
    assert result.json() == {"message": INTERNAL_ERROR, "requestId": result.json()["requestId"]}
    assert result.json()["requestId"]


def cancelled(tenant: str, website: str) -> dict[str, object]:
    """A TransactionCanceledException's fields, with each put's cancellation reason, as DynamoDB gives them."""
    return {"CancellationReasons": [{"Code": tenant}, {"Code": website}]}


@pytest.mark.parametrize(
    ("after_the_conflict", "status"),
    [(cancelled("None", "ConditionalCheckFailed"), 409), (None, 201)],
    ids=["the-other-create-won", "the-other-transaction-let-go"],
)
def test_a_create_racing_another_on_the_same_website_is_tried_again(
    aws: Provisioned, after_the_conflict: dict[str, object] | None, status: int
) -> None:
    # DynamoDB refuses a transaction that overlaps another on the same item with TransactionConflict, and botocore
    # does not retry it: answered as is, a race between two creates of one website would be a 500.
    with Stubber(client("dynamodb")) as dynamodb:
        error = "TransactionCanceledException"
        dynamodb.add_client_error(
            "transact_write_items", error, modeled_fields=cancelled("None", "TransactionConflict")
        )
        if after_the_conflict:
            dynamodb.add_client_error("transact_write_items", error, modeled_fields=after_the_conflict)
        else:
            dynamodb.add_response("transact_write_items", {})

        result = call("POST", "/tenants", unique_tenant())

        dynamodb.assert_no_pending_responses()
    assert result.status == status, result.body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**NEW_TENANT, "website": "not a domain"}, "body.website", "must not contain spaces"),
        ({**NEW_TENANT, "name": "   "}, "body.name", "at least 1 character"),
        ({**NEW_TENANT, "name": "x" * 201}, "body.name", "at most 200 characters"),
        ({**NEW_TENANT, "contactEmail": "nope"}, "body.contactEmail", "valid email address"),
        ({**NEW_TENANT, "plan": "gold"}, "body.plan", "'free', 'pro' or 'enterprise'"),
        ({**NEW_TENANT, "owner": "me"}, "body", "a field that is not allowed (1)"),
        ({**NEW_TENANT, "contact_email": "a@b.example"}, "body", "the allowed fields are: name, website, contactEmail"),
        ({"name": "Acme", "contactEmail": "ops@acme.example"}, "body.website", "Field required"),
        ({"name": "Acme", "website": "acme.example"}, "body.contactEmail", "Field required"),
        ({**NEW_TENANT, "website": 42}, "body.website", "valid string"),
    ],
)
def test_invalid_body_is_400_naming_the_field(aws: Provisioned, body: dict, field: str, message: str) -> None:
    result = call("POST", "/tenants", body)

    assert result.status == 400
    errors = result.json()["errors"]
    assert any(error["field"] == field and message in error["message"] for error in errors), errors


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", "null"])
def test_malformed_json_is_400(aws: Provisioned, raw: str) -> None:
    result = call("POST", "/tenants", raw_body=raw)

    assert result.status == 400
    assert result.json()["errors"][0]["field"].startswith("body")


def test_get_unknown_tenant_is_404(aws: Provisioned) -> None:
    result = call("GET", f"/tenants/{uuid.uuid4()}")

    assert result.status == 404
    assert result.json()["message"] == "No tenant with this id exists, or it is not yours."


def test_get_malformed_id_is_400(aws: Provisioned) -> None:
    result = call("GET", "/tenants/not-a-uuid")

    assert result.status == 400
    assert result.json()["errors"][0]["field"] == "path.tenantId"


def test_location_includes_the_stage_path_when_deployed(aws: Provisioned) -> None:
    from embedded_stack.apigateway.events import lambda_context, proxy_event
    from lambdas.tenants.handler import lambda_handler

    body = '{"name": "A", "website": "stage.example", "contactEmail": "a@stage.example"}'
    event = proxy_event(
        "POST",
        "/tenants",
        resource="/tenants",
        body=body,
        headers={"Content-Type": "application/json"},
        claims=CALLER_CLAIMS,
    )
    event["requestContext"]["path"] = "/prod/tenants"

    result = lambda_handler(event, lambda_context("tenants"))

    assert result["statusCode"] == 201
    assert result["multiValueHeaders"]["Location"][0].startswith("/prod/tenants/")


def test_a_name_with_control_characters_is_400(aws: Provisioned) -> None:
    result = call("POST", "/tenants", unique_tenant(name="Acme\u0000Corp"))

    assert result.status == 400
    assert result.json()["errors"] == [
        {"field": "body.name", "message": "must not contain control characters or line breaks"}
    ]


# ---------------------------------------------------------------------------------------------- who sees what


def test_a_tenant_is_404_to_anyone_but_its_owner_and_admins(aws: Provisioned) -> None:
    tenant = call("POST", "/tenants", unique_tenant()).json()

    assert call("GET", f"/tenants/{tenant['id']}").status == 200
    assert call("GET", f"/tenants/{tenant['id']}", claims=ADMIN_CLAIMS).status == 200
    stranger = call("GET", f"/tenants/{tenant['id']}", claims=OTHER_CLAIMS)
    unknown = call("GET", f"/tenants/{uuid.uuid4()}", claims=OTHER_CLAIMS)
    assert stranger.status == unknown.status == 404
    assert stranger.json()["message"] == unknown.json()["message"]


def test_a_plan_other_than_free_is_for_admins_only(aws: Provisioned) -> None:
    refused = call("POST", "/tenants", unique_tenant(plan="enterprise"))
    allowed = call("POST", "/tenants", unique_tenant(plan="enterprise"), claims=ADMIN_CLAIMS)

    assert refused.status == 403
    assert refused.json()["message"] == "Only an administrator can create a tenant on a plan other than free."
    assert refused.json()["errors"] == [
        {"field": "body.plan", "message": "can be other than free only for an administrator"}
    ]
    assert allowed.status == 201 and allowed.json()["plan"] == "enterprise"


def test_the_website_409_tells_a_stranger_only_that_it_is_taken(aws: Provisioned) -> None:
    website = unique_tenant()["website"]
    first = call("POST", "/tenants", unique_tenant(website=website)).json()

    taken = call("POST", "/tenants", unique_tenant(website=website), claims=OTHER_CLAIMS)

    assert taken.status == 409
    assert first["id"] not in taken.body and CALLER_CLAIMS["sub"] not in taken.body and website not in taken.body


def test_the_list_holds_the_callers_own_tenants_newest_first_in_pages(dynamodb_calls: Counter[str]) -> None:
    mine = [call("POST", "/tenants", unique_tenant()).json()["id"] for _ in range(5)]
    theirs = call("POST", "/tenants", unique_tenant(), claims=OTHER_CLAIMS).json()["id"]
    dynamodb_calls.clear()

    seen: list[str] = []
    query: dict[str, str | list[str]] = {"limit": "2"}
    while True:
        page = call("GET", "/tenants", query=query)
        assert page.status == 200, page.body
        seen += [tenant["id"] for tenant in page.json()["items"]]
        if page.json()["nextCursor"] is None:
            break
        query = {"limit": "2", "cursor": page.json()["nextCursor"]}

    assert seen == list(reversed(mine))
    assert theirs not in seen
    assert set(dynamodb_calls) == {"Query"}  # never a Scan


def test_an_admin_lists_every_tenant(aws: Provisioned) -> None:
    mine = call("POST", "/tenants", unique_tenant()).json()["id"]
    theirs = call("POST", "/tenants", unique_tenant(), claims=OTHER_CLAIMS).json()["id"]

    listed = call("GET", "/tenants", query={"limit": "100"}, claims=ADMIN_CLAIMS).json()

    assert {mine, theirs} <= {tenant["id"] for tenant in listed["items"]}
    assert listed["nextCursor"] is None


def test_a_cursor_of_another_callers_list_is_refused(aws: Provisioned) -> None:
    for _ in range(2):
        call("POST", "/tenants", unique_tenant())
    cursor = call("GET", "/tenants", query={"limit": "1"}).json()["nextCursor"]

    foreign = call("GET", "/tenants", query={"cursor": cursor}, claims=OTHER_CLAIMS)
    forged = call(
        "GET",
        "/tenants",
        query={"cursor": pagination.encode("not-a-key", pagination.scope_of("tenants", CALLER_CLAIMS["sub"]))},
    )

    assert foreign.status == forged.status == 400
    assert [error["field"] for error in foreign.json()["errors"] + forged.json()["errors"]] == ["query.cursor"] * 2
