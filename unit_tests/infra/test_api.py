from __future__ import annotations

import json

import pulumi

from infra.api import IDENTITY_SOURCE, deployment_fingerprint, resource_tree
from lambdas import catalog
from unit_tests.infra.conftest import ACCOUNT, REGION, STACK, Deployed
from unit_tests.infra.declarations import RICH, ROUTES

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
    methods = deployed.methods()
    authorizer = deployed.one("aws:apigateway/authorizer:Authorizer")
    assert authorizer.inputs["type"] == "COGNITO_USER_POOLS"
    assert authorizer.inputs["identitySource"] == IDENTITY_SOURCE
    pool = deployed.one("aws:cognito/userPool:UserPool")
    assert authorizer.inputs["providerArns"] == [pool.state["arn"]]
    for route in routes:
        method = methods.pop((route.method, route.path))
        [integration] = deployed.attached("aws:apigateway/integration:Integration", method)
        assert integration.inputs["type"] == "AWS_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "POST"
        assert integration.inputs["uri"] == invoke_arn(route.function.name), route
        if route.public:
            assert method.inputs["authorization"] == "NONE", route
            assert "authorizerId" not in method.inputs, route
        else:
            assert method.inputs["authorization"] == "COGNITO_USER_POOLS", route
            assert method.inputs["authorizerId"] == authorizer.state["__id"], route
    # Nothing else is served: every remaining method is a 405 `ANY`.
    assert {http_method for http_method, _ in methods} <= {"ANY"}


@pulumi.runtime.test
def test_every_catalog_route_is_a_method_with_a_proxy_integration_and_the_authorizer_unless_public(deploy):
    return deploy(check_routes)


@pulumi.runtime.test
def test_routes_of_a_richer_catalog(deploy):
    return deploy(check_routes, declared=RICH)


def check_method_not_allowed(deployed: Deployed) -> None:
    declared_paths = {route.path for route in deployed.declared.routes}
    methods = deployed.methods()
    assert {path for http_method, path in methods if http_method == "ANY"} == declared_paths
    for path in declared_paths:
        method = methods[("ANY", path)]
        assert method.inputs["authorization"] == "NONE"
        [integration] = deployed.attached("aws:apigateway/integration:Integration", method)
        assert integration.inputs["type"] == "MOCK"
        assert json.loads(integration.inputs["requestTemplates"]["application/json"]) == {"statusCode": 405}
        [method_response] = deployed.attached("aws:apigateway/methodResponse:MethodResponse", method)
        assert method_response.inputs["statusCode"] == str(catalog.METHOD_NOT_ALLOWED_STATUS)
        [response] = deployed.attached("aws:apigateway/integrationResponse:IntegrationResponse", method)
        assert response.inputs["statusCode"] == "405"
        assert "selectionPattern" not in response.inputs
        assert response.inputs["responseTemplates"] == {"application/json": NOT_ALLOWED_BODY}
        # API Gateway refuses an integration response before its integration exists; nothing else orders them.
        assert (integration.type, integration.name) in deployed.depends_on(response)


@pulumi.runtime.test
def test_every_declared_path_answers_405_to_undeclared_methods(deploy):
    return deploy(check_method_not_allowed)


@pulumi.runtime.test
def test_405_only_on_declared_paths_not_on_their_parents(deploy):
    def check(deployed: Deployed) -> None:
        check_method_not_allowed(deployed)
        paths = set(deployed.api_paths().values())
        assert {"/events/{eventId}/attachments", "/admin", "/admin/users"} <= paths
        assert ("ANY", "/admin") not in deployed.methods()

    return deploy(check, declared=RICH)


# Everything a deployment snapshots: made before it, or the stage serves an API without them.
SERVED_TYPES = (
    "aws:apigateway/method:Method",
    "aws:apigateway/integration:Integration",
    "aws:apigateway/methodResponse:MethodResponse",
    "aws:apigateway/integrationResponse:IntegrationResponse",
    "aws:apigateway/response:Response",
    "aws:apigateway/authorizer:Authorizer",
)


def check_deployment_depends_on_everything_served(deployed: Deployed) -> None:
    deployment = deployed.one("aws:apigateway/deployment:Deployment")
    served = {(r.type, r.name) for kind in SERVED_TYPES for r in deployed.of_type(kind)}
    assert len(served) > len(deployed.declared.routes) * 2
    assert served <= deployed.depends_on(deployment), served - deployed.depends_on(deployment)


@pulumi.runtime.test
def test_the_deployment_is_made_after_every_method_integration_and_response(deploy):
    return deploy(check_deployment_depends_on_everything_served)


@pulumi.runtime.test
def test_the_deployment_is_made_after_everything_served_of_a_richer_catalog(deploy):
    return deploy(check_deployment_depends_on_everything_served, declared=RICH)


@pulumi.runtime.test
def test_gateway_responses_have_the_error_shape_and_status(deploy):
    def check(deployed: Deployed) -> None:
        responses = {r.inputs["responseType"]: r for r in deployed.of_type("aws:apigateway/response:Response")}
        assert set(responses) == {g.response_type for g in catalog.GATEWAY_RESPONSES}
        for declared in catalog.GATEWAY_RESPONSES:
            response = responses[declared.response_type]
            assert response.inputs["statusCode"] == str(declared.status)
            body = response.inputs["responseTemplates"]["application/json"]
            assert body == f'{{"message":"{declared.message}","requestId":"$context.requestId"}}'

    return deploy(check)


@pulumi.runtime.test
def test_rest_api_binary_media_types_and_regional_endpoint(deploy):
    def check(deployed: Deployed) -> None:
        api = deployed.one("aws:apigateway/restApi:RestApi")
        assert api.inputs["name"] == f"{PREFIX}api"
        assert set(api.inputs["binaryMediaTypes"]) == {"image/*", "multipart/form-data", "application/octet-stream"}
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
        assert deployment.inputs["triggers"]["declarations"] == deployment_fingerprint(
            catalog.routes(),
            catalog.GATEWAY_RESPONSES,
            deployed.declared.method_not_allowed,
            catalog.BINARY_MEDIA_TYPES,
        )
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


def test_deployment_fingerprint_changes_with_the_routes():
    base = deployment_fingerprint(ROUTES, catalog.GATEWAY_RESPONSES, RICH.method_not_allowed, ("image/*",))
    assert base == deployment_fingerprint(ROUTES, catalog.GATEWAY_RESPONSES, RICH.method_not_allowed, ("image/*",))
    assert base != deployment_fingerprint(ROUTES[1:], catalog.GATEWAY_RESPONSES, RICH.method_not_allowed, ("image/*",))
    public_changed = (ROUTES[0], ROUTES[1].__class__(**{**ROUTES[1].__dict__, "public": True}), *ROUTES[2:])
    assert base != deployment_fingerprint(
        public_changed, catalog.GATEWAY_RESPONSES, RICH.method_not_allowed, ("image/*",)
    )


def test_resource_tree_has_every_parent_before_its_children():
    assert resource_tree(("/", "/a/{b}/c", "/a")) == ["/a", "/a/{b}", "/a/{b}/c"]
