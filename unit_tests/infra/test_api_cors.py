"""CORS and compression on the deployed API: preflight mocks, Gateway Responses, the functions' environment."""

from __future__ import annotations

import json
import re

import pulumi

from infra.api import INTEGRATION
from lambdas.catalog import MINIMUM_COMPRESSION_SIZE, cors
from unit_tests.infra.conftest import Deployed

ORIGINS = ["http://localhost:*", "https://app.example.com"]


def template_regex(template: str) -> re.Pattern[str]:
    [regex] = re.findall(r"\.matches\('([^']*)'\)", template)
    return re.compile(regex)


def check_preflights(deployed: Deployed) -> None:
    operations = deployed.operations()
    served: dict[str, set[str]] = {}
    for route in deployed.declared.routes:
        served.setdefault(route.path, set()).add(route.method)
    assert {path for method, path in operations if method == "OPTIONS"} == set(served)
    for path, path_methods in served.items():
        operation = operations[("OPTIONS", path)]
        assert "security" not in operation
        integration = operation[INTEGRATION]
        assert integration["type"] == "mock"
        assert json.loads(integration["requestTemplates"]["application/json"]) == {"statusCode": 200}
        declared_headers = {f"method.response.header.{header}" for header in operation["responses"]["200"]["headers"]}
        assert "method.response.header.Access-Control-Allow-Origin" in declared_headers
        response = integration["responses"]["default"]
        assert response["statusCode"] == "200"
        parameters = response["responseParameters"]
        allowed_methods = parameters["method.response.header.Access-Control-Allow-Methods"].strip("'")
        assert set(allowed_methods.split(", ")) == path_methods | {"OPTIONS"}, path
        assert "Authorization" in parameters["method.response.header.Access-Control-Allow-Headers"]
        # Every parameter the integration response sets, the method response declares.
        assert set(parameters) <= declared_headers
        template = response["responseTemplates"]["application/json"]
        assert "responseOverride.header.Access-Control-Allow-Origin = $origin" in template
        origin_pattern = template_regex(template)
        assert origin_pattern.match("http://localhost:5173")
        assert origin_pattern.match("https://app.example.com")
        assert not origin_pattern.match("http://localhost:5173.evil.example")
        assert not origin_pattern.match("https://app.example.com.evil.example")


@pulumi.runtime.test
def test_every_resource_answers_a_preflight_for_the_configured_origins(deploy):
    return deploy(check_preflights, config={"corsAllowedOrigins": ORIGINS})


@pulumi.runtime.test
def test_a_405_is_readable_by_an_allowed_origin(deploy):
    def check(deployed: Deployed) -> None:
        for (http_method, path), operation in deployed.operations().items():
            if http_method != "ANY":
                continue
            template = operation[INTEGRATION]["responses"]["default"]["responseTemplates"]["application/json"]
            assert template_regex(template).match("http://localhost:3000"), path
            assert template.rstrip().endswith('"requestId":"$context.requestId"}')

    return deploy(check, config={"corsAllowedOrigins": ORIGINS})


@pulumi.runtime.test
def test_gateway_responses_are_readable_cross_origin_and_functions_know_the_origins(deploy):
    def check(deployed: Deployed) -> None:
        for response in deployed.body()["x-amazon-apigateway-gateway-responses"].values():
            parameters = response["responseParameters"]
            assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
            assert parameters["gatewayresponse.header.Vary"] == "'Origin'"
        for function in deployed.of_type("aws:lambda/function:Function"):
            variables = function.inputs["environment"]["variables"]
            if cors.ENV_VAR in variables:  # the API's functions; the pool's triggers answer no browser
                assert json.loads(variables[cors.ENV_VAR]) == ORIGINS

    return deploy(check, config={"corsAllowedOrigins": ORIGINS})


@pulumi.runtime.test
def test_without_origins_there_is_no_cors_at_all(deploy):
    def check(deployed: Deployed) -> None:
        assert not [key for key in deployed.operations() if key[0] == "OPTIONS"]
        for response in deployed.body()["x-amazon-apigateway-gateway-responses"].values():
            assert "responseParameters" not in response
        api_functions = [
            f
            for f in deployed.of_type("aws:lambda/function:Function")
            if cors.ENV_VAR in f.inputs["environment"]["variables"]
        ]
        assert api_functions
        assert all(json.loads(f.inputs["environment"]["variables"][cors.ENV_VAR]) == [] for f in api_functions)

    return deploy(check)


@pulumi.runtime.test
def test_the_api_compresses_answers_over_the_minimum_size(deploy):
    def check(deployed: Deployed) -> None:
        assert deployed.body()["x-amazon-apigateway-minimum-compression-size"] == MINIMUM_COMPRESSION_SIZE

    return deploy(check)
