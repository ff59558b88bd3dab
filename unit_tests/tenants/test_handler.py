from __future__ import annotations

import uuid
from collections import Counter

import pytest
from botocore.stub import Stubber

from embedded_stack.provision import Provisioned
from lambdas.shared.api import INTERNAL_ERROR
from lambdas.shared.aws import client
from lambdas.tenants import store
from unit_tests.helpers import call

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
    }
    assert uuid.UUID(tenant["id"]).version == 4
    assert result.headers["Location"] == f"/tenants/{tenant['id']}"


def test_create_stores_timestamps_but_never_returns_them(aws: Provisioned) -> None:
    tenant = call("POST", "/tenants", unique_tenant(plan="pro")).json()

    item = client("dynamodb").get_item(TableName=aws.tables["tenants"], Key={"pk": {"S": f"TENANT#{tenant['id']}"}})
    created, updated = item["Item"]["createdAt"]["S"], item["Item"]["updatedAt"]["S"]
    assert created == updated and created.endswith("Z") and "T" in created
    fetched = call("GET", f"/tenants/{tenant['id']}").json()
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
    assert second.json()["errors"] == [
        {"field": "website", "message": "dup.example is already registered by another tenant"}
    ]
    items = client("dynamodb").scan(TableName=aws.tables["tenants"])["Items"]
    assert len(items) == 2  # the first tenant and its website reservation only


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
    assert result.json()["message"].startswith("tenant ")


def test_get_malformed_id_is_400(aws: Provisioned) -> None:
    result = call("GET", "/tenants/not-a-uuid")

    assert result.status == 400
    assert result.json()["errors"][0]["field"] == "path.tenantId"


def test_location_includes_the_stage_path_when_deployed(aws: Provisioned) -> None:
    from embedded_stack.events import lambda_context, proxy_event
    from lambdas.tenants.handler import lambda_handler

    body = '{"name": "A", "website": "stage.example", "contactEmail": "a@stage.example"}'
    event = proxy_event(
        "POST", "/tenants", resource="/tenants", body=body, headers={"Content-Type": "application/json"}
    )
    event["requestContext"]["path"] = "/prod/tenants"

    result = lambda_handler(event, lambda_context("tenants"))

    assert result["statusCode"] == 201
    assert result["multiValueHeaders"]["Location"][0].startswith("/prod/tenants/")


def test_a_name_with_control_characters_is_400(aws: Provisioned) -> None:
    result = call("POST", "/tenants", unique_tenant(name="Acme\u0000Corp"))

    assert result.status == 400
    assert result.json()["errors"] == [{"field": "body.name", "message": "must not contain control characters"}]
