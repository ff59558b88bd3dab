"""Resource options AWS's rules call for, read off what the program declared (the mocks never see options)."""

from __future__ import annotations

import pulumi

from unit_tests.infra.conftest import Deployed
from unit_tests.infra.declarations import RICH

ACCOUNT_WIDE = (
    "aws:apigateway/account:Account",
    "aws:iam/role:Role",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
)


def check_fixed_names_are_deleted_before_they_are_replaced(deployed: Deployed) -> None:
    """Pulumi replaces create-then-delete by default. AWS rejects the second of two resources with one fixed name:
    DynamoDB table names are unique per account and region (CreateTable: ResourceInUseException), and a Lambda
    policy's statement ids are unique per function (AddPermission: ResourceConflictException)."""
    tables = deployed.of_type("aws:dynamodb/table:Table")
    permissions = [
        p
        for p in deployed.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "apigateway.amazonaws.com"
    ]
    assert tables and len(permissions) == len(deployed.declared.routes)
    for resource in (*tables, *permissions):
        assert "name" in resource.inputs or "statementId" in resource.inputs, resource.name
        assert deployed.options(resource).delete_before_replace is True, resource.name


@pulumi.runtime.test
def test_tables_and_route_permissions_are_deleted_before_they_are_replaced(deploy):
    return deploy(check_fixed_names_are_deleted_before_they_are_replaced, declared=RICH)


@pulumi.runtime.test
def test_api_gateways_account_wide_logging_role_outlives_the_stack(deploy):
    """API Gateway has one CloudWatch role per account and region, and `Account` has no reset on delete: a stack
    that deleted them would break access logging for every other stack in the region."""

    def check(deployed: Deployed) -> None:
        account = deployed.one("aws:apigateway/account:Account")
        role = deployed.by_id("aws:iam/role:Role", account.inputs["cloudwatchRoleArn"].split("/")[-1] + "-id")
        [attachment] = deployed.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        for resource in (account, role, attachment):
            assert deployed.options(resource).retain_on_delete is True, resource.name
        # Nothing else is retained: a destroyed stack leaves no function role behind.
        others = [r for r in deployed.resources if r not in (account, role, attachment)]
        assert not any(deployed.options(r).retain_on_delete for r in others)

    return deploy(check, config={"apiGatewayAccountSettings": True})
