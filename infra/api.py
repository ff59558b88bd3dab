"""The REST API: one resource per path segment, one method per catalog route, 405 for every other method."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws

from infra import names
from infra.settings import StackSettings
from lambdas.catalog import (
    AUTHORIZER_NAME,
    AWS_MESSAGE,
    METHOD_NOT_ALLOWED_CONTENT_TYPES,
    MINIMUM_COMPRESSION_SIZE,
    GatewayResponse,
    Route,
    cors,
)

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


Served = TypeVar("Served", bound=pulumi.CustomResource)


def error_template(message: str) -> str:
    """The JSON body every error has: the functions' shape, with API Gateway's own request id."""
    return json.dumps({"message": message, "requestId": "$context.requestId"}, separators=(",", ":"))


def gateway_response_template(response: GatewayResponse) -> str:
    """The error shape; the defaults carry AWS's own message (already a quoted JSON string) of the error they stand
    in for, every other response its catalog message."""
    if not response.keeps_aws_message:
        return error_template(response.message)
    return '{"message":' + AWS_MESSAGE + ',"requestId":"$context.requestId"}'


@dataclass(frozen=True)
class MethodNotAllowed:
    status: int
    message: str
    content_types: tuple[str, ...] = METHOD_NOT_ALLOWED_CONTENT_TYPES


def method_not_allowed_templates(not_allowed: MethodNotAllowed) -> dict[str, str]:
    return {content_type: json.dumps({"statusCode": not_allowed.status}) for content_type in not_allowed.content_types}


# Arguments that name another API Gateway resource by id: the snapshot names it by its key instead, so that the
# trigger changes with what is served, not with ids (a replaced resource shows in its own arguments).
_ID_ARGUMENTS = frozenset({"rest_api", "rest_api_id", "resource_id", "parent_id", "authorizer_id"})


def deployment_fingerprint(snapshot: Mapping[str, Any]) -> str:
    """Changes whenever anything a deployment snapshots changes, so that Pulumi makes a new Deployment."""
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True, default=str).encode()).hexdigest()


def method_settings(settings: StackSettings) -> dict[str, float | int]:
    """The stage's `*/*` method settings (throttling)."""
    return {
        "throttlingRateLimit": settings.throttling_rate_limit,
        "throttlingBurstLimit": settings.throttling_burst_limit,
    }


def localstack_invoke_url(
    endpoint: str, rest_api_id: pulumi.Input[str], stage: pulumi.Input[str]
) -> pulumi.Output[str]:
    """LocalStack serves every API under its own endpoint, not execute-api.amazonaws.com: `/_aws/execute-api/<id>/
    <stage>` since 3.8 (the `/restapis/<id>/<stage>/_user_request_` form is deprecated)."""
    return pulumi.Output.concat(endpoint, "/_aws/execute-api/", rest_api_id, "/", stage)


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
        self._name = name
        self._cors_origins = settings.cors_allowed_origins
        self.served: list[pulumi.Resource] = []
        # Everything the stage's deployment is a snapshot of; the Deployment's trigger is its hash.
        self.snapshot: dict[str, pulumi.Input[Any]] = {
            "restApi": {
                "binaryMediaTypes": self.rest_api.binary_media_types,
                "minimumCompressionSize": self.rest_api.minimum_compression_size,
            },
            "methodSettings": method_settings(settings),
        }

        self.resources: dict[str, pulumi.Input[str]] = {"/": self.rest_api.root_resource_id}
        for path in resource_tree(tuple(route.path for route in routes)):
            parent, _, part = path.rpartition("/")
            self.resources[path] = self._served(
                f"resource-{path}",
                aws.apigateway.Resource,
                rest_api=self.rest_api.id,
                parent_id=self.resources[parent or "/"],
                path_part=part,
            ).id

        self.authorizer = None
        if any(not route.public for route in routes):
            self.authorizer = self._served(
                "authorizer",
                aws.apigateway.Authorizer,
                name=AUTHORIZER_NAME,
                rest_api=self.rest_api.id,
                type="COGNITO_USER_POOLS",
                provider_arns=[user_pool_arn],
                identity_source=IDENTITY_SOURCE,
            )

        for route in routes:
            self._route(name, route, functions[route.function.name])

        for path in dict.fromkeys(route.path for route in routes):
            self._method_not_allowed(path, method_not_allowed)
        self._cors_preflights(routes)

        for response in gateway_responses:
            self._gateway_response(response)

        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            description="Routes from lambdas.catalog",
            triggers={"snapshot": pulumi.Output.from_input(self.snapshot).apply(deployment_fingerprint)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.served),
        )
        self.stage = self._stage(name, settings)
        self.invoke_url = self.stage.invoke_url
        if settings.aws_endpoint:
            self.invoke_url = localstack_invoke_url(settings.aws_endpoint, self.rest_api.id, self.stage.stage_name)
        self.register_outputs(
            {"restApiId": self.rest_api.id, "stageName": self.stage.stage_name, "invokeUrl": self.invoke_url}
        )

    def _served(
        self, key: str, kind: type[Served], depends_on: list[pulumi.Resource] | None = None, **args: Any
    ) -> Served:
        """Declares a resource the deployment snapshots (made before it), with its arguments in the snapshot."""
        resource = kind(f"{self._name}-{key}", **args, opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on))
        self.snapshot[key] = {arg: value for arg, value in args.items() if arg not in _ID_ARGUMENTS}
        self.served.append(resource)
        return resource

    def _route(self, name: str, route: Route, function: aws.lambda_.Function) -> None:
        """The method, its proxy integration, and the function's permission to be invoked by it."""
        method = self._served(
            f"method-{route.method}-{route.path}",
            aws.apigateway.Method,
            rest_api=self.rest_api.id,
            resource_id=self.resources[route.path],
            http_method=route.method,
            authorization="NONE" if route.public else "COGNITO_USER_POOLS",
            authorizer_id=None if route.public or self.authorizer is None else self.authorizer.id,
        )
        self._served(
            f"integration-{route.method}-{route.path}",
            aws.apigateway.Integration,
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=function.invoke_arn,
        )
        aws.lambda_.Permission(
            f"{name}-invoke-{route.method}-{route.path}",
            statement_id=statement_id(route),
            action="lambda:InvokeFunction",
            function=function.name,
            principal="apigateway.amazonaws.com",
            # Any stage, this method, this resource path (path parameters stay as `{name}`).
            source_arn=pulumi.Output.concat(self.rest_api.execution_arn, f"/*/{route.method}{route.path}"),
            # Its statement id is fixed: a replacement made before the old one is deleted would collide with it
            # in the function's policy (ResourceConflictException).
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

    def _method_not_allowed(self, path: str, not_allowed: MethodNotAllowed) -> None:
        """`ANY` answered by a MOCK integration: API Gateway prefers a declared method, so only undeclared ones
        land here. No authorizer: a wrong method is a 405 whoever asks."""
        self._mock(
            path,
            "ANY",
            str(not_allowed.status),
            integration={
                # A MOCK reads its status from the mapped request: a body passed through unmapped (form, multipart,
                # text) is no `{"statusCode": ...}`, and the MOCK answers 500. So every content type clients send is
                # mapped, and NEVER passes anything else through: API Gateway answers those 415
                # (UNSUPPORTED_MEDIA_TYPE).
                "request_templates": method_not_allowed_templates(not_allowed),
                "passthrough_behavior": "NEVER",
                # Binary bodies (multipart, octet-stream) reach the template as base64 text; the template ignores
                # them.
                "content_handling": "CONVERT_TO_TEXT",
            },
            method_response={"response_models": {"application/json": "Error"}},
            # No selection pattern: the default response, whatever the mock's status.
            integration_response={
                "response_templates": {
                    "application/json": origin_override(self._cors_origins) + error_template(not_allowed.message)
                }
            },
        )

    def _cors_preflights(self, routes: tuple[Route, ...]) -> None:
        """`OPTIONS` on every resource, answered by a MOCK integration (section "CORS" below)."""
        if not self._cors_origins:
            return
        methods: dict[str, list[str]] = {}
        for route in routes:
            methods.setdefault(route.path, []).append(route.method)
        for path, path_methods in methods.items():
            self._cors_preflight(path, cors.preflight_headers(None, (), path_methods))

    def _cors_preflight(self, path: str, static_headers: dict[str, str]) -> None:
        headers = [*static_headers, "Access-Control-Allow-Origin"]
        # No authorizer: a browser's preflight never carries the token.
        self._mock(
            path,
            "OPTIONS",
            "200",
            integration={
                "request_templates": {"application/json": json.dumps({"statusCode": 200})},
                "passthrough_behavior": "WHEN_NO_MATCH",
            },
            method_response={"response_parameters": {f"method.response.header.{header}": False for header in headers}},
            integration_response={
                "response_parameters": {
                    f"method.response.header.{header}": f"'{value}'" for header, value in static_headers.items()
                },
                "response_templates": {"application/json": origin_override(self._cors_origins)},
            },
        )

    def _mock(
        self,
        path: str,
        http_method: str,
        status: str,
        *,
        integration: dict[str, Any],
        method_response: dict[str, Any],
        integration_response: dict[str, Any],
    ) -> None:
        """`http_method` on `path` answered by API Gateway itself (a MOCK integration), with no authorizer: the
        method, its integration, and the one response each declares, with `status`."""
        method = self._served(
            f"method-{http_method}-{path}",
            aws.apigateway.Method,
            rest_api=self.rest_api.id,
            resource_id=self.resources[path],
            http_method=http_method,
            authorization="NONE",
        )
        mock = self._served(
            f"integration-{http_method}-{path}",
            aws.apigateway.Integration,
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="MOCK",
            **integration,
        )
        response = self._served(
            f"method-response-{http_method}-{path}",
            aws.apigateway.MethodResponse,
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code=status,
            **method_response,
        )
        self._served(
            f"integration-response-{http_method}-{path}",
            aws.apigateway.IntegrationResponse,
            # API Gateway refuses an integration response before its integration exists.
            depends_on=[mock],
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code=response.status_code,
            **integration_response,
        )

    def _gateway_response(self, response: GatewayResponse) -> None:
        """No `status_code` unless the catalog overrides AWS's: on DEFAULT_4XX/5XX one would replace the status of
        every other 4xx/5xx (the Gateway response types table)."""
        self._served(
            f"response-{response.response_type}",
            aws.apigateway.Response,
            rest_api_id=self.rest_api.id,
            response_type=response.response_type,
            status_code=None if response.status_code is None else str(response.status_code),
            response_templates={"application/json": gateway_response_template(response)},
            response_parameters=gateway_response_cors_parameters(self._cors_origins),
        )

    def _stage(self, name: str, settings: StackSettings) -> aws.apigateway.Stage:
        child = pulumi.ResourceOptions(parent=self)
        stage_depends_on: list[pulumi.Resource] = []
        if settings.api_gateway_account_settings:
            stage_depends_on.append(self._account_logging_role(name))
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=names.LOG_GROUP.check(f"/aws/apigateway/{settings.prefix}api/access"),
            retention_in_days=settings.log_retention_days,
            tags=settings.tags or None,
            opts=child,
        )
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.rest_api.id,
            deployment=self.deployment.id,
            stage_name=names.STAGE.check(settings.stage_name),
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
        only the stack whose config sets `apiGatewayAccountSettings` manages it, and all three resources are
        retained on delete: destroying that stack must not break access logging for every other stack in the
        region (an `Account` has no reset on delete, and a deleted role would leave it pointing at nothing)."""
        retained = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
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
            opts=retained,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-role-policy", role=role.name, policy_arn=API_GATEWAY_PUSH_TO_CLOUDWATCH, opts=retained
        )
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions.merge(retained, pulumi.ResourceOptions(depends_on=[attachment])),
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
