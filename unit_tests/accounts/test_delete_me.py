"""DELETE /me against moto: the account and everything it owns in every service go, nobody else's does; a deletion
that fails halfway leaves the account disabled (its marker), and the next DELETE /me finishes it.

"Nothing carries the sub" is checked by scanning every declared table and listing every object version of every
declared bucket (with versioning on, as a deployed bucket has it)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from embedded_stack.provision import Provisioned
from lambdas import catalog
from lambdas.shared.aws import client
from testkit import HttpResult, call
from unit_tests.identity.conftest import PASSWORD
from unit_tests.users.conftest import Failures, created


def sign_up() -> dict[str, Any]:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = call("POST", "/auth/signup", {"email": email, "password": PASSWORD, "name": "Ada"})
    assert signed_up.status == 201, signed_up.body
    sub = signed_up.json()["userId"]
    tokens = call("POST", "/auth/login", {"email": email, "password": PASSWORD}).json()
    return {"email": email, "sub": sub, "claims": {"sub": sub, "email": email, "token_use": "id"}, **tokens}


def own_everything(claims: dict[str, str]) -> dict[str, str]:
    """One of each thing an account can own, made through the API; the directory user's id."""
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    made = [
        call(
            "POST",
            "/tenants",
            {"name": "Acme", "website": f"{uuid.uuid4().hex[:12]}.example", "contactEmail": "ops@acme.example"},
            claims=claims,
        ),
        call("POST", "/sla-errors", {"fileName": "daily.csv", "expectedAt": hour_ago}, claims=claims),
        call(
            "POST",
            "/points/transactions",
            {"payer": "DANNON", "points": 300, "timestamp": "2020-10-31T10:00:00Z"},
            claims=claims,
            headers={"Idempotency-Key": f"tx-{uuid.uuid4().hex}"},
        ),
    ]
    assert [result.status for result in made] == [201, 200, 201], [result.body for result in made]
    return {"directory_user": created(claims=claims, email=f"person-{uuid.uuid4().hex[:8]}@example.com")["id"]}


def delete_me(claims: dict[str, str]) -> HttpResult:
    return call("DELETE", "/me", claims=claims)


def every_item(aws: Provisioned) -> list[str]:
    """Every item of every declared table, as JSON text."""
    dynamodb = client("dynamodb")
    items = []
    for table in catalog.TABLES:
        request: dict[str, Any] = {"TableName": aws.tables[table.name]}
        while True:
            page = dynamodb.scan(**request)
            items += [json.dumps(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def every_object_version(aws: Provisioned) -> list[str]:
    s3 = client("s3")
    keys = []
    for bucket in catalog.BUCKETS:
        listing = s3.list_object_versions(Bucket=aws.buckets[bucket.name])
        keys += [entry["Key"] for entry in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]]
    return keys


@pytest.fixture
def versioned_buckets(aws: Provisioned) -> None:
    for bucket in catalog.BUCKETS:
        client("s3").put_bucket_versioning(
            Bucket=aws.buckets[bucket.name], VersioningConfiguration={"Status": "Enabled"}
        )


@pytest.fixture
def fail(aws: Provisioned) -> Any:
    failures = Failures()
    yield failures
    failures.clear()


def test_delete_me_leaves_nothing_that_carries_the_sub_and_everything_of_others(
    aws: Provisioned, trigger: None, versioned_buckets: None
) -> None:
    user, other = sign_up(), sign_up()
    mine, theirs = own_everything(user["claims"]), own_everything(other["claims"])
    assert any(user["sub"] in item for item in every_item(aws))

    result = delete_me(user["claims"])

    assert result.status == 204, result.body
    items = every_item(aws)
    assert not [item for item in items if user["sub"] in item]
    assert not [key for key in every_object_version(aws) if mine["directory_user"] in key]
    assert sum(other["sub"] in item for item in items) >= 5  # ledger, idempotency, tenant, user, SLA error
    assert [key for key in every_object_version(aws) if theirs["directory_user"] in key]


def test_the_deleted_account_can_no_longer_log_in_or_refresh(aws: Provisioned, trigger: None) -> None:
    user = sign_up()

    assert delete_me(user["claims"]).status == 204

    assert call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).status == 401
    assert call("POST", "/auth/refresh", {"refreshToken": user["refreshToken"]}).status == 401
    assert call("GET", "/me", claims=user["claims"]).status == 401


def test_a_deletion_that_fails_halfway_leaves_the_account_disabled_and_the_next_one_finishes_it(
    aws: Provisioned, trigger: None, versioned_buckets: None, fail: Failures
) -> None:
    user = sign_up()
    own_everything(user["claims"])
    fail("dynamodb", "BatchWriteItem", once=True)  # the points ledger's deletion, after the other services'

    failed = delete_me(user["claims"])

    assert failed.status == 500
    assert client("cognito-idp").admin_get_user(UserPoolId=aws.user_pool_id, Username=user["sub"])["Enabled"] is False
    assert call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).status == 401
    assert [item for item in every_item(aws) if user["sub"] in item]  # the ledger is still there

    assert delete_me(user["claims"]).status == 204
    assert not [item for item in every_item(aws) if user["sub"] in item]


def test_deleting_a_deleted_account_again_is_204(aws: Provisioned, trigger: None) -> None:
    user = sign_up()
    delete_me(user["claims"])

    assert delete_me(user["claims"]).status == 204


def test_every_service_that_holds_an_accounts_data_declares_its_deletion() -> None:
    holders = {function.name for function in catalog.FUNCTIONS if function.tables or function.buckets}

    assert holders - {"accounts"} == {function.name for function in catalog.FUNCTIONS if function.owner_deletion}
