"""The accounts and identity functions' grants: exactly what their calls need, on exactly their resources."""

from __future__ import annotations

from infra.functions import access_statements
from lambdas import catalog

TABLE_ARNS = {table.name: f"arn:aws:dynamodb:us-east-1:123456789012:table/{table.name}" for table in catalog.TABLES}
BUCKET_ARNS = {bucket.name: f"arn:aws:s3:::{bucket.name}-1" for bucket in catalog.BUCKETS}
POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"


def grants(function: catalog.Function) -> set[tuple[str, str]]:
    statements = access_statements(function, TABLE_ARNS, BUCKET_ARNS, POOL_ARN)
    return {(action, resource) for s in statements for action in s["Action"] for resource in s["Resource"]}


def test_the_accounts_role_may_find_and_delete_an_accounts_data_and_nothing_else() -> None:
    tables, bucket = TABLE_ARNS, BUCKET_ARNS["avatars"]

    granted = grants(catalog.ACCOUNTS)

    assert {action for action, _ in granted if action.startswith("dynamodb:")} == {
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
    }
    assert ("dynamodb:Scan", tables["points_idempotency"]) in granted
    assert not [
        resource
        for action, resource in granted
        if action == "dynamodb:Scan" and resource != tables["points_idempotency"]
    ]
    assert {(a, r) for a, r in granted if a.startswith("s3:")} == {
        ("s3:ListBucketVersions", bucket),
        *((action, f"{bucket}/{prefix}*") for action in ("s3:DeleteObject", "s3:DeleteObjectVersion")
          for prefix in ("avatars/", "pending/")),
    }  # fmt: skip
    assert {(a, r) for a, r in granted if a.startswith("cognito-idp:")} == {
        ("cognito-idp:AdminDeleteUser", POOL_ARN),
        ("cognito-idp:AdminDisableUser", POOL_ARN),
    }


def test_the_identity_role_holds_the_four_admin_actions_of_its_routes_on_the_pool_only() -> None:
    assert grants(catalog.IDENTITY) == {
        (f"cognito-idp:{action}", POOL_ARN)
        for action in ("AdminGetUser", "AdminSetUserPassword", "AdminUpdateUserAttributes", "AdminUserGlobalSignOut")
    }


def test_accounts_ships_every_services_deletion() -> None:
    shipped = set(catalog.ACCOUNTS.lazy_imports)

    assert {f.owner_deletion.rpartition(".")[0] for f in catalog.FUNCTIONS if f.owner_deletion} == shipped
