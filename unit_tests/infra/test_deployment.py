"""The Deployment's trigger changes with everything the deployment snapshots, so that no change stays unserved.

AWS rule: a stage serves the snapshot its deployment took (API Gateway developer guide, "Deploy a REST API": changes
to methods, integrations, authorizers or gateway responses take effect only after a new deployment). Pulumi makes
a new Deployment only when its inputs change, so its `triggers` hold the hash of the API's OpenAPI body, which holds
all of those. (Stage settings such as throttling are not part of a deployment: they apply without one.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pulumi

import infra.api
from infra.api import (
    Api,
    ApiDefinition,
    MethodNotAllowed,
    body_hash,
    openapi_body,
    serialized,
    skeleton_document,
)
from infra.settings import StackSettings
from lambdas import catalog
from lambdas.catalog import GatewayResponse
from unit_tests.infra.declarations import RICH

SETTINGS = StackSettings(project="serverless-platform", stack="unit", stage_name="unit")
POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_First"


def function(name: str, generation: str = "") -> Any:
    """What Api reads of a function: its name and its invoke ARN."""
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}{generation}"
    return SimpleNamespace(
        name=name, invoke_arn=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"
    )


# A public and two protected routes on two paths: enough for every kind of change, few resources per API.
ROUTES = RICH.routes[:3]
FUNCTIONS = {f.name: function(f.name) for f in RICH.functions}
BASE: dict[str, Any] = {
    "routes": ROUTES,
    "gateway_responses": catalog.GATEWAY_RESPONSES,
    "method_not_allowed": RICH.method_not_allowed,
    "binary_media_types": RICH.binary_media_types,
    "functions": FUNCTIONS,
    "user_pool_arn": POOL,
    "settings": SETTINGS,
}


def swapped(response: GatewayResponse) -> tuple[GatewayResponse, ...]:
    """The catalog's gateway responses with `response` in place of the one of its type."""
    return tuple(response if g.response_type == response.response_type else g for g in catalog.GATEWAY_RESPONSES)


# Each change a stage would not serve without a new deployment.
CHANGES: dict[str, dict[str, Any]] = {
    "a replaced user pool (the authorizer's provider ARN)": {"user_pool_arn": POOL.replace("First", "Second")},
    "a replaced function (an integration URI)": {"functions": {**FUNCTIONS, "reader": function("reader", "-v2")}},
    "a route made public": {"routes": (ROUTES[0], replace(ROUTES[1], public=True), ROUTES[2])},
    "a route removed": {"routes": ROUTES[1:]},
    "the 405's message (its integration response template)": {
        "method_not_allowed": MethodNotAllowed(405, "Wrong method")
    },
    "the 405's mapped content types (its request templates)": {
        "method_not_allowed": MethodNotAllowed(405, "Method Not Allowed", ("application/json",))
    },
    "a gateway response's message": {"gateway_responses": swapped(replace(catalog.THROTTLED, message="Slow down"))},
    "a gateway response's status": {"gateway_responses": swapped(replace(catalog.UNAUTHORIZED, status_code=403))},
    "a gateway response removed": {"gateway_responses": catalog.GATEWAY_RESPONSES[:-1]},
    "binary media types": {"binary_media_types": ("image/*",)},
    "an operation's summary in the served document": {
        "document": {
            **skeleton_document(ROUTES),
            "paths": {
                **skeleton_document(ROUTES)["paths"],
                "/": {"get": {"summary": "Home", "responses": {"200": {"description": "OK"}}}},
            },
        }
    },
    "the CORS origins (preflight and gateway response templates)": {
        "settings": replace(SETTINGS, cors_allowed_origins=("https://app.example",))
    },
}


def triggers(**overrides: Any) -> Callable[[str], pulumi.Output[Any]]:
    def build(name: str) -> pulumi.Output[Any]:
        return Api(name, **{**BASE, **overrides}).deployment.triggers

    return build


def check_each_change(check: Callable[[str, str, str], None], changes: dict[str, Callable[[str], Any]]):
    base = triggers()("base")
    same = triggers()("same")
    changed = {label: build(f"changed-{index}") for index, (label, build) in enumerate(changes.items())}

    def compare(values: list[Any]) -> None:
        base_value, same_value, *changed_values = (value["body"] for value in values)
        # Ids are not what is served: two APIs declared alike have one snapshot.
        assert base_value == same_value
        for label, value in zip(changed, changed_values, strict=True):
            check(label, base_value, value)

    return pulumi.Output.all(base, same, *changed.values()).apply(compare)


def differs(label: str, base: str, changed: str) -> None:
    assert base != changed, f"{label} does not make a new deployment"


@pulumi.runtime.test
def test_every_change_the_stage_serves_changes_the_deployment_trigger(deploy):
    return check_each_change(differs, {label: triggers(**overrides) for label, overrides in CHANGES.items()})


def test_an_edited_template_in_the_program_changes_the_deployment_trigger(monkeypatch):
    """An edit of the error template in infra/api.py itself: no catalog declaration changes."""
    definition = ApiDefinition(
        routes=ROUTES,
        invoke_arns={name: f.invoke_arn for name, f in FUNCTIONS.items()},
        user_pool_arn=POOL,
        gateway_responses=catalog.GATEWAY_RESPONSES,
        method_not_allowed=RICH.method_not_allowed,
        binary_media_types=RICH.binary_media_types,
        cors_origins=(),
    )
    base = body_hash(serialized(openapi_body(skeleton_document(ROUTES), definition)))
    original = infra.api.error_template
    monkeypatch.setattr(infra.api, "error_template", lambda message: original(message).replace("message", "error"))
    edited = body_hash(serialized(openapi_body(skeleton_document(ROUTES), definition)))
    differs("the error template", base, edited)
