from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pulumi
import pytest

from infra.api import INTEGRATION, ApiDefinition, openapi_body, skeleton_document
from lambdas import catalog
from lambdas.platform import openapi
from unit_tests.infra.conftest import ACCOUNT, REGION, STACK, Deployed
from unit_tests.infra.declarations import RICH

PREFIX = f"serverless-platform-{STACK}-"
NOT_ALLOWED_BODY = json.dumps(
    {"message": "Method Not Allowed", "requestId": "$context.requestId"}, separators=(",", ":")
)


def invoke_arn(function_name: str) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}{function_name}"
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


def check_routes(deployed: Deployed) -> None:
    routes = deployed.declared.routes
    assert routes, "no routes declared"
    body = deployed.body()
    assert body["openapi"] == "3.0.1"  # API Gateway imports OpenAPI 2.0 and 3.0, not 3.1
    operations = deployed.operations()
    pool = deployed.one("aws:cognito/userPool:UserPool")
    scheme = body["components"]["securitySchemes"][catalog.AUTHORIZER_NAME]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert scheme["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools",
        "providerARNs": [pool.state["arn"]],
    }
    for route in routes:
        operation = operations.pop((route.method, route.path))
        integration = operation[INTEGRATION]
        assert integration["type"] == "aws_proxy"
        assert integration["httpMethod"] == "POST"
        assert integration["uri"] == invoke_arn(route.function.name), route
        if route.public:
            assert "security" not in operation, route
        else:
            assert operation["security"] == [{catalog.AUTHORIZER_NAME: []}], route
    # Nothing else is served: every remaining operation is a 405 `ANY` (no OPTIONS: no CORS origins).
    assert {http_method for http_method, _ in operations} <= {"ANY"}


@pulumi.runtime.test
def test_every_catalog_route_is_an_operation_with_a_proxy_integration_and_the_authorizer_unless_public(deploy):
    return deploy(check_routes)


@pulumi.runtime.test
def test_routes_of_a_richer_catalog(deploy):
    return deploy(check_routes, declared=RICH)


@pulumi.runtime.test
def test_the_body_is_the_served_document_extended(deploy):
    """The operations, their ids, summaries and parameters are the served document's (lambdas/platform/openapi.py):
    the document a client reads and the one API Gateway imports come from the same routes."""

    def check(deployed: Deployed) -> None:
        served = openapi.document()
        operations = deployed.operations()
        for path, served_operations in served["paths"].items():
            for method, served_operation in served_operations.items():
                operation = operations[(method.upper(), path)]
                assert operation["operationId"] == served_operation["operationId"]
                assert operation.get("summary") == served_operation.get("summary")
                names = [(p["name"], p["in"]) for p in served_operation.get("parameters", [])]
                assert [(p["name"], p["in"]) for p in operation.get("parameters", [])] == names
                assert set(operation["responses"]) == set(served_operation["responses"])
        # No 3.1 schema reaches API Gateway: it would make models of them.
        assert "schemas" not in deployed.body().get("components", {})
        assert "requestBody" not in json.dumps(deployed.body())

    return deploy(check)


def test_a_document_that_differs_from_the_routes_is_refused():
    document = skeleton_document(RICH.routes[1:])
    definition = ApiDefinition(
        routes=RICH.routes,
        invoke_arns={f.name: f.name for f in RICH.functions},
        user_pool_arn="pool",
        gateway_responses=(),
        method_not_allowed=RICH.method_not_allowed,
        binary_media_types=(),
        cors_origins=(),
    )
    with pytest.raises(ValueError, match=r"only in the routes \[\('GET', '/'\)\]"):
        openapi_body(document, definition)


@pulumi.runtime.test
def test_a_document_that_differs_from_the_routes_fails_at_preview(deploy):
    # Before any ARN is known: a preview knows none of them, so a check inside the body's `apply` would not run.
    with pytest.raises(ValueError, match="the OpenAPI document and the routes differ"):
        deploy(lambda _: None, declared=replace(RICH, document=skeleton_document(RICH.routes[1:])))
    return pulumi.Output.from_input(None)


# What browsers, curl and SDKs send: JSON (also API Gateway's pick for a request without a Content-Type), HTML forms,
# uploads, plain text, XML, raw bytes.
CLIENT_CONTENT_TYPES = {
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "application/xml",
    "application/octet-stream",
}


def check_method_not_allowed(deployed: Deployed) -> None:
    declared_paths = {route.path for route in deployed.declared.routes}
    operations = deployed.operations()
    assert {path for http_method, path in operations if http_method == "ANY"} == declared_paths
    for path in declared_paths:
        operation = operations[("ANY", path)]
        assert "security" not in operation
        integration = operation[INTEGRATION]
        assert integration["type"] == "mock"
        # A MOCK answers 500 to a body passed through unmapped (API Gateway developer guide, "Mock integrations":
        # the status comes from the mapped request). Every content type a client sends is mapped; NEVER makes
        # anything else API Gateway's 415 instead of passing it through.
        templates = integration["requestTemplates"]
        assert set(templates) >= CLIENT_CONTENT_TYPES
        assert {json.dumps(json.loads(t)) for t in templates.values()} == {json.dumps({"statusCode": 405})}
        assert integration["passthroughBehavior"] == "never"
        assert integration["contentHandling"] == "CONVERT_TO_TEXT"
        assert set(operation["responses"]) == {str(catalog.METHOD_NOT_ALLOWED_STATUS)}
        # `default`: the response whatever the mock's status, no selection pattern.
        assert integration["responses"] == {
            "default": {"statusCode": "405", "responseTemplates": {"application/json": NOT_ALLOWED_BODY}}
        }


@pulumi.runtime.test
def test_every_declared_path_answers_405_to_undeclared_methods(deploy):
    return deploy(check_method_not_allowed)


@pulumi.runtime.test
def test_405_only_on_declared_paths_not_on_their_parents(deploy):
    def check(deployed: Deployed) -> None:
        check_method_not_allowed(deployed)
        # API Gateway makes the parents (`/admin`, `/admin/users`) as resources without methods: they stay 404.
        assert set(deployed.body()["paths"]) == {route.path for route in RICH.routes}
        assert ("ANY", "/admin") not in deployed.operations()

    return deploy(check, declared=RICH)


@pulumi.runtime.test
def test_the_api_is_exactly_its_document_and_redeployed_when_it_changes(deploy):
    """PutRestApi in overwrite mode deletes what the document no longer holds (a removed route); the Deployment
    names the API, so it is made after that PutRestApi, and its trigger is the body's hash."""

    def check(deployed: Deployed) -> None:
        rest_api = deployed.one("aws:apigateway/restApi:RestApi")
        assert rest_api.inputs["putRestApiMode"] == "overwrite"
        deployment = deployed.one("aws:apigateway/deployment:Deployment")
        assert deployment.inputs["restApi"] == rest_api.state["__id"]
        assert deployment.inputs["triggers"] == {"body": hashlib.sha256(rest_api.inputs["body"].encode()).hexdigest()}
        # Nothing of the API is declared beside its document: no resource, method or integration to outlive it.
        hand_made = [r for r in deployed.resources if r.type.split("/")[-1].split(":")[0] in HAND_MADE]
        assert not hand_made, hand_made

    return deploy(check, declared=RICH)


HAND_MADE = {"resource", "method", "integration", "methodResponse", "integrationResponse", "response", "authorizer"}
REMOVED = RICH.routes[1]  # GET /events


@pulumi.runtime.test
def test_a_removed_route_is_absent_from_the_body_and_has_no_permission(deploy):
    def check(deployed: Deployed) -> None:
        assert (REMOVED.method, REMOVED.path) not in deployed.operations()
        assert ("POST", REMOVED.path) in deployed.operations(), "the path's other method stays"
        source_arns = [p.inputs.get("sourceArn", "") for p in deployed.of_type("aws:lambda/permission:Permission")]
        assert not [arn for arn in source_arns if arn.endswith(f"/{REMOVED.method}{REMOVED.path}")]

    routes = tuple(route for route in RICH.routes if route != REMOVED)
    return deploy(check, declared=replace(RICH, routes=routes))


@pulumi.runtime.test
def test_rest_api_binary_media_types_compression_and_regional_endpoint(deploy):
    def check(deployed: Deployed) -> None:
        api = deployed.one("aws:apigateway/restApi:RestApi")
        assert api.inputs["name"] == f"{PREFIX}api"
        body = deployed.body()
        assert set(body["x-amazon-apigateway-binary-media-types"]) == {
            "image/*",
            "multipart/form-data",
            "application/octet-stream",
        }
        assert body["x-amazon-apigateway-minimum-compression-size"] == catalog.MINIMUM_COMPRESSION_SIZE
        assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"

    return deploy(check)


@pulumi.runtime.test
def test_lambda_permissions_are_scoped_to_each_route(deploy):
    def check(deployed: Deployed) -> None:
        execution_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:restapi1"
        permissions = {
            p.inputs["sourceArn"]: p
            for p in deployed.of_type("aws:lambda/permission:Permission")
            if p.inputs["principal"] == "apigateway.amazonaws.com"
        }
        expected = {f"{execution_arn}/*/{r.method}{r.path}": r for r in deployed.declared.routes}
        assert set(permissions) == set(expected)
        for source_arn, route in expected.items():
            permission = permissions[source_arn]
            assert permission.inputs["function"] == f"{PREFIX}{route.function.name}"
            assert permission.inputs["action"] == "lambda:InvokeFunction"
        assert len({p.inputs["statementId"] for p in permissions.values()}) == len(permissions)

    return deploy(check, declared=RICH)


@pulumi.runtime.test
def test_deployment_stage_access_logs_and_throttling(deploy):
    def check(deployed: Deployed) -> None:
        deployment = deployed.one("aws:apigateway/deployment:Deployment")
        assert set(deployment.inputs["triggers"]) == {"body"}
        assert len(deployment.inputs["triggers"]["body"]) == 64
        stage = deployed.one("aws:apigateway/stage:Stage")
        assert stage.inputs["stageName"] == "v1"
        assert stage.inputs["deployment"] == deployment.state["__id"]
        log_group = deployed.one("aws:cloudwatch/logGroup:LogGroup", name=f"/aws/apigateway/{PREFIX}api/access")
        assert log_group.inputs["retentionInDays"] == 14
        settings = stage.inputs["accessLogSettings"]
        assert settings["destinationArn"] == log_group.state["arn"]
        fields = json.loads(settings["format"])
        for key in ("requestId", "ip", "httpMethod", "resourcePath", "status", "responseLength", "integrationLatency"):
            assert key in fields
        throttling = deployed.one("aws:apigateway/methodSettings:MethodSettings")
        assert throttling.inputs["methodPath"] == "*/*"
        assert throttling.inputs["settings"]["throttlingRateLimit"] == 25
        assert throttling.inputs["settings"]["throttlingBurstLimit"] == 50
        assert not deployed.of_type("aws:apigateway/account:Account")

    return deploy(
        check,
        config={"stageName": "v1", "logRetentionDays": 14, "throttlingRateLimit": 25, "throttlingBurstLimit": 50},
    )


@pulumi.runtime.test
def test_stage_defaults_to_the_stack_name_and_the_account_role_is_opt_in(deploy):
    def check(deployed: Deployed) -> None:
        stage = deployed.one("aws:apigateway/stage:Stage")
        assert stage.inputs["stageName"] == STACK
        account = deployed.one("aws:apigateway/account:Account")
        # Access logging is refused until the account has its CloudWatch role.
        assert (account.type, account.name) in deployed.depends_on(stage)
        role = deployed.by_id("aws:iam/role:Role", account.inputs["cloudwatchRoleArn"].split("/")[-1] + "-id")
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "apigateway.amazonaws.com"
        }

    return deploy(check, config={"apiGatewayAccountSettings": True})
