"""The REST API, declared from its OpenAPI document: the one the API serves (lambdas/platform/openapi.py), with
API Gateway's extensions (an AWS_PROXY integration per route, the Cognito authorizer, a 405 MOCK on every path, CORS
preflight MOCKs, the gateway responses). One `PutRestApi` in overwrite mode makes the API exactly the document,
removed routes included, and a new deployment follows every change of the document (docs/deploying.md)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
# API Gateway imports OpenAPI 2.0 and 3.0 documents; Powertools writes 3.1.
IMPORTED_OPENAPI_VERSION = "3.0.1"
ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
_PARAMETER_TYPES = frozenset({"string", "integer", "number", "boolean"})


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


def localstack_invoke_url(
    endpoint: str, rest_api_id: pulumi.Input[str], stage: pulumi.Input[str]
) -> pulumi.Output[str]:
    """LocalStack serves every API under its own endpoint, not execute-api.amazonaws.com: `/_aws/execute-api/<id>/
    <stage>` since 3.8 (the `/restapis/<id>/<stage>/_user_request_` form is deprecated)."""
    return pulumi.Output.concat(endpoint, "/_aws/execute-api/", rest_api_id, "/", stage)


def statement_id(route: Route) -> str:
    """Lambda statement ids allow [A-Za-z0-9_-]; the hash keeps `/a-b` and `/a/b` apart."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", route.path).strip("-") or "root"
    digest = hashlib.sha256(f"{route.method} {route.path}".encode()).hexdigest()[:8]
    return f"ApiGateway-{route.method}-{slug}"[:90] + f"-{digest}"


@dataclass(frozen=True)
class ApiDefinition:
    """What the document is made from, beside the routes' own operations: every value a deployment serves."""

    routes: tuple[Route, ...]
    invoke_arns: Mapping[str, str]  # function name → invoke ARN
    user_pool_arn: str
    gateway_responses: tuple[GatewayResponse, ...]
    method_not_allowed: MethodNotAllowed
    binary_media_types: tuple[str, ...]
    cors_origins: tuple[str, ...]


def skeleton_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    """An OpenAPI document of the routes alone, for declarations no resolver serves (the tests' richer catalog)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"\{(\w+)\}", route.path)
        ]
        operation: dict[str, Any] = {"responses": {"200": {"description": "OK"}}}
        if parameters:
            operation["parameters"] = parameters
        if not route.public:
            operation["security"] = [{AUTHORIZER_NAME: []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {"openapi": IMPORTED_OPENAPI_VERSION, "info": {"title": "API", "version": "1"}, "paths": paths}


def openapi_body(document: Mapping[str, Any], definition: ApiDefinition) -> dict[str, Any]:
    """The document API Gateway imports: the served document's paths, operations, parameters and security, as
    OpenAPI 3.0, with API Gateway's extensions. Request and response schemas are left out: API Gateway would make
    them models (JSON Schema draft 4) it never uses (the functions validate), and 3.1's schemas are not draft 4."""
    check_document(document, definition.routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in definition.routes:
        operation = document["paths"][route.path][route.method.lower()]
        paths.setdefault(route.path, {})[route.method.lower()] = _proxied(operation, route, definition)
    for operations in paths.values():
        operations[ANY_METHOD] = _method_not_allowed(definition.method_not_allowed, definition.cors_origins)
        if definition.cors_origins:
            methods = [method.upper() for method in operations if not method.startswith("x-")]
            operations["options"] = _cors_preflight(cors.preflight_headers(None, (), methods), definition.cors_origins)
    body: dict[str, Any] = {
        "openapi": IMPORTED_OPENAPI_VERSION,
        "info": {key: document["info"][key] for key in ("title", "version")},
        "paths": paths,
        "x-amazon-apigateway-gateway-responses": {
            response.response_type: _gateway_response(response, definition.cors_origins)
            for response in definition.gateway_responses
        },
        "x-amazon-apigateway-binary-media-types": list(definition.binary_media_types),
        "x-amazon-apigateway-minimum-compression-size": MINIMUM_COMPRESSION_SIZE,
    }
    if any(not route.public for route in definition.routes):
        body["components"] = {"securitySchemes": {AUTHORIZER_NAME: cognito_authorizer(definition.user_pool_arn)}}
    return body


def check_document(document: Mapping[str, Any], routes: tuple[Route, ...]) -> None:
    """The document's operations are the routes, no more, no less."""
    served = {
        (method.upper(), path)
        for path, operations in document.get("paths", {}).items()
        for method in operations
        if not method.startswith("x-")
    }
    routed = {(route.method, route.path) for route in routes}
    if served != routed:
        raise ValueError(
            f"the OpenAPI document and the routes differ: only in the document {sorted(served - routed)}, only in "
            f"the routes {sorted(routed - served)}"
        )


def cognito_authorizer(user_pool_arn: str) -> dict[str, Any]:
    """The security scheme protected operations name: API Gateway's Cognito user pools authorizer, reading the ID
    token from the Authorization header."""
    return {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [user_pool_arn]},
    }


def _proxied(operation: Mapping[str, Any], route: Route, definition: ApiDefinition) -> dict[str, Any]:
    imported: dict[str, Any] = {key: operation[key] for key in ("operationId", "summary") if key in operation}
    parameters = [_parameter(parameter) for parameter in operation.get("parameters", [])]
    if parameters:
        imported["parameters"] = parameters
    imported["responses"] = {
        status: {"description": answer.get("description") or status}
        for status, answer in operation.get("responses", {}).items()
    } or {"200": {"description": "OK"}}
    # No `security` on a public operation: the document has no global requirement, so it has no authorizer.
    if not route.public:
        imported["security"] = [{AUTHORIZER_NAME: []}]
    imported[INTEGRATION] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": definition.invoke_arns[route.function.name],
        "passthroughBehavior": "when_no_match",
    }
    return imported


def _parameter(parameter: Mapping[str, Any]) -> dict[str, Any]:
    kind = parameter.get("schema", {}).get("type")
    return {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": bool(parameter.get("required")) or parameter["in"] == "path",
        "schema": {"type": kind if kind in _PARAMETER_TYPES else "string"},
    }


def _method_not_allowed(not_allowed: MethodNotAllowed, cors_origins: tuple[str, ...]) -> dict[str, Any]:
    """`ANY` answered by a MOCK integration: API Gateway prefers a declared method, so only undeclared ones land
    here. No authorizer: a wrong method is a 405 whoever asks."""
    return {
        "responses": {str(not_allowed.status): {"description": not_allowed.message}},
        INTEGRATION: {
            "type": "mock",
            # A MOCK reads its status from the mapped request: a body passed through unmapped (form, multipart,
            # text) is no `{"statusCode": ...}`, and the MOCK answers 500. So every content type clients send is
            # mapped, and NEVER passes anything else through: API Gateway answers those 415 (UNSUPPORTED_MEDIA_TYPE).
            "requestTemplates": method_not_allowed_templates(not_allowed),
            "passthroughBehavior": "never",
            # Binary bodies (multipart, octet-stream) reach the template as base64 text; the template ignores them.
            "contentHandling": "CONVERT_TO_TEXT",
            # `default`: whatever the mock's status, this response.
            "responses": {
                "default": {
                    "statusCode": str(not_allowed.status),
                    "responseTemplates": {
                        "application/json": origin_override(cors_origins) + error_template(not_allowed.message)
                    },
                }
            },
        },
    }


def _cors_preflight(static_headers: Mapping[str, str], cors_origins: tuple[str, ...]) -> dict[str, Any]:
    """`OPTIONS` answered by a MOCK integration, with no authorizer: a browser's preflight never carries the token.
    Access-Control-Allow-Origin is set by the template, for an allowed origin only (section "CORS" below)."""
    headers = [*static_headers, "Access-Control-Allow-Origin"]
    return {
        "responses": {
            "200": {
                "description": "CORS preflight",
                "headers": {header: {"schema": {"type": "string"}} for header in headers},
            }
        },
        INTEGRATION: {
            "type": "mock",
            "requestTemplates": {"application/json": json.dumps({"statusCode": 200})},
            "passthroughBehavior": "when_no_match",
            "responses": {
                "default": {
                    "statusCode": "200",
                    "responseParameters": {
                        f"method.response.header.{header}": f"'{value}'" for header, value in static_headers.items()
                    },
                    "responseTemplates": {"application/json": origin_override(cors_origins)},
                }
            },
        },
    }


def _gateway_response(response: GatewayResponse, cors_origins: tuple[str, ...]) -> dict[str, Any]:
    """No `statusCode` unless the catalog overrides AWS's: on DEFAULT_4XX/5XX one would replace the status of every
    other 4xx/5xx (the Gateway response types table)."""
    answer: dict[str, Any] = {"responseTemplates": {"application/json": gateway_response_template(response)}}
    if response.status_code is not None:
        answer["statusCode"] = response.status_code
    if parameters := gateway_response_cors_parameters(cors_origins):
        answer["responseParameters"] = parameters
    return answer


def body_hash(body: str) -> str:
    """What the Deployment's trigger holds: a new document makes a new deployment, the same one none."""
    return hashlib.sha256(body.encode()).hexdigest()


def serialized(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


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
        document: Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:api:Api", name, None, opts)
        served = document if document is not None else skeleton_document(routes)
        check_document(served, routes)  # now, not once the ARNs are known: a preview knows none of them
        routed = {route.function.name: functions[route.function.name] for route in routes}

        def body_of(resolved: list[Any]) -> str:
            pool_arn, *arns = resolved
            definition = ApiDefinition(
                routes=routes,
                invoke_arns=dict(zip(routed, arns, strict=True)),
                user_pool_arn=pool_arn,
                gateway_responses=gateway_responses,
                method_not_allowed=method_not_allowed,
                binary_media_types=binary_media_types,
                cors_origins=settings.cors_allowed_origins,
            )
            return serialized(openapi_body(served, definition))

        self.body: pulumi.Output[str] = pulumi.Output.all(
            user_pool_arn, *[function.invoke_arn for function in routed.values()]
        ).apply(body_of)
        self.rest_api = aws.apigateway.RestApi(
            # Not `-rest-api`, the hand-made API's name: a stack made before gets a new API, and its old one is
            # deleted whole, after. On the old API, deleting the old method resources after the import could delete
            # the methods the import just made (docs/deploying.md, "Upgrading").
            f"{name}-openapi",
            name=f"{settings.prefix}api",
            description="serverless-platform API: routes from lambdas.catalog",
            body=self.body,
            # The API becomes exactly the document: what it no longer holds (a removed route) is deleted.
            put_rest_api_mode="overwrite",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=settings.tags or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        for route in routes:
            self._permission(name, route, functions[route.function.name])
        # A stage serves the snapshot its deployment took: a new document needs a new deployment. Made after the
        # RestApi's PutRestApi (it names the API), so the snapshot is the new document, removals included.
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            description="The OpenAPI document of lambdas.catalog's routes",
            triggers={"body": self.body.apply(body_hash)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.stage = self._stage(name, settings)
        self.invoke_url = self.stage.invoke_url
        if settings.aws_endpoint:
            self.invoke_url = localstack_invoke_url(settings.aws_endpoint, self.rest_api.id, self.stage.stage_name)
        self.register_outputs(
            {"restApiId": self.rest_api.id, "stageName": self.stage.stage_name, "invokeUrl": self.invoke_url}
        )

    def _permission(self, name: str, route: Route, function: aws.lambda_.Function) -> None:
        """The function's permission to be invoked by this route's method."""
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
