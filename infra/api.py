"""The REST API: one resource per path segment, one method per catalog route, 405 for every other method."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.settings import StackSettings
from lambdas.catalog import AUTHORIZER_NAME, MINIMUM_COMPRESSION_SIZE, GatewayResponse, Route, cors

IDENTITY_SOURCE = "method.request.header.Authorization"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "responseLatency": "$context.responseLatency",
        "errorMessage": "$context.error.message",
        "user": "$context.authorizer.claims.sub",
    },
    separators=(",", ":"),
)
API_GATEWAY_PUSH_TO_CLOUDWATCH = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def error_template(message: str) -> str:
    """The JSON body every error has: the functions' shape, with API Gateway's own request id."""
    return json.dumps({"message": message, "requestId": "$context.requestId"}, separators=(",", ":"))


@dataclass(frozen=True)
class MethodNotAllowed:
    status: int
    message: str


def deployment_fingerprint(
    routes: tuple[Route, ...],
    responses: tuple[GatewayResponse, ...],
    not_allowed: MethodNotAllowed,
    binary_media_types: tuple[str, ...],
) -> str:
    """Changes whenever what the deployment serves changes, so that Pulumi makes a new Deployment."""
    declared = {
        "routes": [[r.method, r.path, r.function.name, r.public] for r in routes],
        "gatewayResponses": [[g.response_type, g.status, g.message] for g in responses],
        "methodNotAllowed": [not_allowed.status, not_allowed.message],
        "binaryMediaTypes": list(binary_media_types),
    }
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


def resource_tree(paths: tuple[str, ...]) -> list[str]:
    """Every path that needs an API Gateway resource (each route path and each of its parents), parents first."""
    needed: dict[str, None] = {}
    for path in paths:
        parts = [part for part in path.split("/") if part]
        for depth in range(1, len(parts) + 1):
            needed["/" + "/".join(parts[:depth])] = None
    return sorted(needed, key=lambda p: (p.count("/"), p))


def statement_id(route: Route) -> str:
    """Lambda statement ids allow [A-Za-z0-9_-]; the hash keeps `/a-b` and `/a/b` apart."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", route.path).strip("-") or "root"
    digest = hashlib.sha256(f"{route.method} {route.path}".encode()).hexdigest()[:8]
    return f"ApiGateway-{route.method}-{slug}"[:90] + f"-{digest}"


class Api(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        routes: tuple[Route, ...],
        gateway_responses: tuple[GatewayResponse, ...],
        method_not_allowed: MethodNotAllowed,
        binary_media_types: tuple[str, ...],
        functions: Mapping[str, aws.lambda_.Function],
        user_pool_arn: pulumi.Input[str],
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:api:Api", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._cors_origins = settings.cors_allowed_origins
        self.rest_api = aws.apigateway.RestApi(
            f"{name}-rest-api",
            name=f"{settings.prefix}api",
            description="serverless-platform API: routes from lambdas.catalog",
            binary_media_types=list(binary_media_types),
            minimum_compression_size=str(MINIMUM_COMPRESSION_SIZE),
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=settings.tags or None,
            opts=child,
        )
        served: list[pulumi.Resource] = []

        self.resources: dict[str, pulumi.Input[str]] = {"/": self.rest_api.root_resource_id}
        for path in resource_tree(tuple(route.path for route in routes)):
            parent, _, part = path.rpartition("/")
            resource = aws.apigateway.Resource(
                f"{name}-resource-{path}",
                rest_api=self.rest_api.id,
                parent_id=self.resources[parent or "/"],
                path_part=part,
                opts=child,
            )
            self.resources[path] = resource.id

        self.authorizer = None
        if any(not route.public for route in routes):
            self.authorizer = aws.apigateway.Authorizer(
                f"{name}-authorizer",
                name=AUTHORIZER_NAME,
                rest_api=self.rest_api.id,
                type="COGNITO_USER_POOLS",
                provider_arns=[user_pool_arn],
                identity_source=IDENTITY_SOURCE,
                opts=child,
            )
            served.append(self.authorizer)

        for route in routes:
            method = aws.apigateway.Method(
                f"{name}-method-{route.method}-{route.path}",
                rest_api=self.rest_api.id,
                resource_id=self.resources[route.path],
                http_method=route.method,
                authorization="NONE" if route.public else "COGNITO_USER_POOLS",
                authorizer_id=None if route.public or self.authorizer is None else self.authorizer.id,
                opts=child,
            )
            integration = aws.apigateway.Integration(
                f"{name}-integration-{route.method}-{route.path}",
                rest_api=self.rest_api.id,
                resource_id=method.resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=functions[route.function.name].invoke_arn,
                opts=child,
            )
            served += [method, integration]
            aws.lambda_.Permission(
                f"{name}-invoke-{route.method}-{route.path}",
                statement_id=statement_id(route),
                action="lambda:InvokeFunction",
                function=functions[route.function.name].name,
                principal="apigateway.amazonaws.com",
                # Any stage, this method, this resource path (path parameters stay as `{name}`).
                source_arn=pulumi.Output.concat(self.rest_api.execution_arn, f"/*/{route.method}{route.path}"),
                opts=child,
            )

        for path in dict.fromkeys(route.path for route in routes):
            served += self._method_not_allowed(name, path, method_not_allowed)
        served += self._cors_preflights(name, routes, settings.cors_allowed_origins)

        for response in gateway_responses:
            served.append(
                aws.apigateway.Response(
                    f"{name}-response-{response.response_type}",
                    rest_api_id=self.rest_api.id,
                    response_type=response.response_type,
                    status_code=str(response.status),
                    response_templates={"application/json": error_template(response.message)},
                    response_parameters=gateway_response_cors_parameters(settings.cors_allowed_origins),
                    opts=child,
                )
            )

        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            description="Routes from lambdas.catalog",
            triggers={
                "declarations": deployment_fingerprint(
                    routes, gateway_responses, method_not_allowed, binary_media_types
                ),
                "cors": json.dumps(list(settings.cors_allowed_origins)),
                "minimumCompressionSize": str(MINIMUM_COMPRESSION_SIZE),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=served),
        )
        self.stage = self._stage(name, settings)
        self.invoke_url = self.stage.invoke_url
        if settings.aws_endpoint:
            # LocalStack serves every API under its own endpoint, not under execute-api.amazonaws.com.
            self.invoke_url = pulumi.Output.concat(
                settings.aws_endpoint, "/restapis/", self.rest_api.id, "/", self.stage.stage_name, "/_user_request_"
            )
        self.register_outputs(
            {"restApiId": self.rest_api.id, "stageName": self.stage.stage_name, "invokeUrl": self.invoke_url}
        )

    def _method_not_allowed(self, name: str, path: str, not_allowed: MethodNotAllowed) -> list[pulumi.Resource]:
        """`ANY` answered by a MOCK integration: API Gateway prefers a declared method, so only undeclared ones
        land here. No authorizer: a wrong method is a 405 whoever asks."""
        child = pulumi.ResourceOptions(parent=self)
        status = str(not_allowed.status)
        method = aws.apigateway.Method(
            f"{name}-method-ANY-{path}",
            rest_api=self.rest_api.id,
            resource_id=self.resources[path],
            http_method="ANY",
            authorization="NONE",
            opts=child,
        )
        integration = aws.apigateway.Integration(
            f"{name}-integration-ANY-{path}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": json.dumps({"statusCode": not_allowed.status})},
            passthrough_behavior="WHEN_NO_MATCH",
            opts=child,
        )
        method_response = aws.apigateway.MethodResponse(
            f"{name}-method-response-ANY-{path}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code=status,
            response_models={"application/json": "Error"},
            opts=child,
        )
        integration_response = aws.apigateway.IntegrationResponse(
            f"{name}-integration-response-ANY-{path}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code=method_response.status_code,
            # No selection pattern: the default response, whatever the mock's status.
            response_templates={
                "application/json": origin_override(self._cors_origins) + error_template(not_allowed.message)
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        return [method, integration, method_response, integration_response]

    def _cors_preflights(
        self, name: str, routes: tuple[Route, ...], allowed_origins: tuple[str, ...]
    ) -> list[pulumi.Resource]:
        """`OPTIONS` on every resource, answered by a MOCK integration (section "CORS" below)."""
        if not allowed_origins:
            return []
        served: list[pulumi.Resource] = []
        methods: dict[str, list[str]] = {}
        for route in routes:
            methods.setdefault(route.path, []).append(route.method)
        for path, path_methods in methods.items():
            served += self._cors_preflight(name, path, cors.preflight_headers(None, (), path_methods), allowed_origins)
        return served

    def _cors_preflight(
        self, name: str, path: str, static_headers: dict[str, str], allowed_origins: tuple[str, ...]
    ) -> list[pulumi.Resource]:
        child = pulumi.ResourceOptions(parent=self)
        method = aws.apigateway.Method(
            f"{name}-method-OPTIONS-{path}",
            rest_api=self.rest_api.id,
            resource_id=self.resources[path],
            http_method="OPTIONS",
            authorization="NONE",  # a browser's preflight never carries the token
            opts=child,
        )
        integration = aws.apigateway.Integration(
            f"{name}-integration-OPTIONS-{path}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": json.dumps({"statusCode": 200})},
            passthrough_behavior="WHEN_NO_MATCH",
            opts=child,
        )
        headers = [*static_headers, "Access-Control-Allow-Origin"]
        method_response = aws.apigateway.MethodResponse(
            f"{name}-method-response-OPTIONS-{path}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code="200",
            response_parameters={f"method.response.header.{header}": False for header in headers},
            opts=child,
        )
        integration_response = aws.apigateway.IntegrationResponse(
            f"{name}-integration-response-OPTIONS-{path}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code=method_response.status_code,
            response_parameters={
                f"method.response.header.{header}": f"'{value}'" for header, value in static_headers.items()
            },
            response_templates={"application/json": origin_override(allowed_origins)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        return [method, integration, method_response, integration_response]

    def _stage(self, name: str, settings: StackSettings) -> aws.apigateway.Stage:
        child = pulumi.ResourceOptions(parent=self)
        stage_depends_on: list[pulumi.Resource] = []
        if settings.api_gateway_account_settings:
            stage_depends_on.append(self._account_logging_role(name))
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{settings.prefix}api/access",
            retention_in_days=settings.log_retention_days,
            tags=settings.tags or None,
            opts=child,
        )
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.rest_api.id,
            deployment=self.deployment.id,
            stage_name=settings.stage_name,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            tags=settings.tags or None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_depends_on),
        )
        aws.apigateway.MethodSettings(
            f"{name}-throttling",
            rest_api=self.rest_api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=settings.throttling_rate_limit,
                throttling_burst_limit=settings.throttling_burst_limit,
            ),
            opts=child,
        )
        return stage

    def _account_logging_role(self, name: str) -> aws.apigateway.Account:
        """API Gateway's one CloudWatch role per account and region: access logging needs it. Account-wide, so
        only the stack whose config sets `apiGatewayAccountSettings` manages it."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-role-policy", role=role.name, policy_arn=API_GATEWAY_PUSH_TO_CLOUDWATCH, opts=child
        )
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )


# --- CORS ---------------------------------------------------------------------------------------------------------
# The allowed origins are patterns (`http://localhost:*`), which no static header value can express. The preflight's
# mapping template echoes the request's Origin when it matches them (lambdas/catalog/cors.py's rule, as a Java
# regular expression); the functions add the same headers to their own answers (lambdas/shared/api.py).


def origin_override(allowed_origins: tuple[str, ...]) -> str:
    """Mapping-template lines that add `Access-Control-Allow-Origin` for an allowed origin (none without any)."""
    if not allowed_origins:
        return ""
    return "".join(
        line + "\n"
        for line in (
            "#set($origin = $input.params().header.get('Origin'))",
            "#if(!$origin)#set($origin = $input.params().header.get('origin'))#end",
            f"#if($origin && $origin.matches('{cors.origin_regex(allowed_origins)}'))",
            "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)",
            "#set($context.responseOverride.header.Vary = 'Origin')",
            "#end",
        )
    )


def gateway_response_cors_parameters(allowed_origins: tuple[str, ...]) -> dict[str, str] | None:
    """Lets a browser read API Gateway's own answers (a 401, a 404, a 429). A Gateway Response can only map the
    request's Origin or a fixed value, not test it: it echoes any Origin. That shows an error message and a request
    id to a page the allowed list does not name, no more (the API takes no cookies and sends no credentials header);
    the functions' answers, which carry the data, follow the list exactly."""
    if not allowed_origins:
        return None
    return {
        "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin",
        "gatewayresponse.header.Access-Control-Expose-Headers": f"'{', '.join(cors.EXPOSED_HEADERS)}'",
        "gatewayresponse.header.Vary": "'Origin'",
    }
