"""Runs the Pulumi program against recording mocks: no Pulumi CLI, no cloud, no zips from `make build`.

Every test is decorated with `@pulumi.runtime.test` and returns the Output of `deploy(...)`, whose `apply` runs the
test's checks once every resource the program declared has been registered (mocks with preview=False, so the
checks really run: see test_harness.py).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import artifacts
from infra.program import Declarations, build_stack, load_settings, main
from infra.settings import ARCHITECTURES, PROJECT
from lambdas import catalog

STACK = "unit"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registered resource, and answers with the outputs AWS would compute (ARNs, ids, URLs)."""

    def __init__(self) -> None:
        self.resources: list[Registered] = []
        self._ids = itertools.count(1)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        state = dict(inputs)
        resource_id = f"{args.name}-id"
        name = inputs.get("name", args.name)
        kind = args.typ
        if kind == "aws:dynamodb/table:Table":
            state["arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        elif kind == "aws:s3/bucket:Bucket":
            resource_id = state["bucket"] = f"{inputs['bucketPrefix']}{next(self._ids):07d}"
            state["arn"] = f"arn:aws:s3:::{resource_id}"
        elif kind == "aws:cognito/userPool:UserPool":
            resource_id = f"{REGION}_Mock{next(self._ids)}"
            state["arn"] = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{resource_id}"
        elif kind == "aws:cognito/userPoolClient:UserPoolClient":
            resource_id = f"client{next(self._ids)}"
        elif kind == "aws:cloudwatch/logGroup:LogGroup":
            state["arn"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        elif kind == "aws:iam/role:Role":
            state["name"] = name  # the provider names a role that has no name (auto-naming); so does the mock
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        elif kind == "aws:lambda/function:Function":
            state["arn"] = arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            state["invokeArn"] = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
        elif kind == "aws:apigateway/restApi:RestApi":
            resource_id = "restapi1"
            state["rootResourceId"] = "root-resource"
            state["executionArn"] = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{resource_id}"
        elif kind == "aws:apigateway/stage:Stage":
            state["invokeUrl"] = f"https://{inputs['restApi']}.execute-api.{REGION}.amazonaws.com/{inputs['stageName']}"
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": REGION, "name": REGION, "id": REGION}, None
        return {}, None

    def of_type(self, kind: str) -> list[Registered]:
        return [r for r in self.resources if r.type == kind]


@dataclass
class Deployed:
    """What a check sees: every registered resource, the stack's exported outputs, resolved, and each resource's
    explicit `depends_on` and other options (the mocks never see them: they are read off the resource options)."""

    resources: list[Registered]
    outputs: dict[str, Any]
    declared: Declarations = field(repr=False)
    explicit_dependencies: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict, repr=False)
    resource_options: dict[tuple[str, str], pulumi.ResourceOptions] = field(default_factory=dict, repr=False)

    def of_type(self, kind: str) -> list[Registered]:
        return [r for r in self.resources if r.type == kind]

    def one(self, kind: str, **inputs: Any) -> Registered:
        found = [r for r in self.of_type(kind) if all(r.inputs.get(k) == v for k, v in inputs.items())]
        assert len(found) == 1, f"expected one {kind} with {inputs}, found {len(found)}"
        return found[0]

    def body(self) -> dict[str, Any]:
        """The OpenAPI document the REST API is declared from (its `body`)."""
        return json.loads(self.one("aws:apigateway/restApi:RestApi").inputs["body"])

    def operations(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(HTTP method, path) → the body's operation; `ANY` for `x-amazon-apigateway-any-method`."""
        found = {}
        for path, operations in self.body()["paths"].items():
            for method, operation in operations.items():
                found[("ANY" if method == "x-amazon-apigateway-any-method" else method.upper(), path)] = operation
        return found

    def depends_on(self, resource: Registered) -> set[tuple[str, str]]:
        """(type, name) of every resource `resource` names in its `depends_on` option."""
        return self.explicit_dependencies.get((resource.type, resource.name), set())

    def options(self, resource: Registered) -> pulumi.ResourceOptions:
        """The options the program declared `resource` with (retain_on_delete, delete_before_replace, ...); none for
        a component resource."""
        return self.resource_options.get((resource.type, resource.name), pulumi.ResourceOptions())

    def by_id(self, kind: str, resource_id: str) -> Registered:
        found = [r for r in self.of_type(kind) if r.state.get("__id") == resource_id]
        assert len(found) == 1, f"no {kind} with id {resource_id}"
        return found[0]


def write_fake_artifacts(directory: Path, names: set[str]) -> Path:
    for architecture in ARCHITECTURES:
        for name in names:
            path = artifacts.zip_path(directory, architecture, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"fake {architecture} {name}".encode())
    return directory


Deploy = Callable[..., pulumi.Output[Any]]


@pytest.fixture
def deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deploy]:
    """`deploy(check, config={...}, declared=None, stack=None, program=main, base_config=True)`: runs the program
    (`program`, when `declared` is None; else `build_stack` on those declarations) with `config` over the base
    config (unless `base_config` is False) and returns an Output that applies `check(Deployed)` after the last
    registration."""
    mocks = RecordingMocks()
    created: list[pulumi.CustomResource] = []
    dependencies: dict[tuple[str, str], set[tuple[str, str]]] = {}
    options: dict[tuple[str, str], pulumi.ResourceOptions] = {}
    original_init = pulumi.CustomResource.__init__

    def recording_init(self: pulumi.CustomResource, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        created.append(self)
        opts = kwargs.get("opts", args[3] if len(args) > 3 else None)
        options[(self.pulumi_resource_type, self.pulumi_resource_name)] = opts or pulumi.ResourceOptions()
        depends_on = (opts.depends_on if opts else None) or []
        dependencies[(self.pulumi_resource_type, self.pulumi_resource_name)] = {
            (d.pulumi_resource_type, d.pulumi_resource_name) for d in depends_on
        }

    original_new_resource = mocks.new_resource

    def recording_new_resource(args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = original_new_resource(args)
        mocks.resources.append(Registered(args.typ, args.name, dict(args.inputs), {**state, "__id": resource_id}))
        return resource_id, state

    monkeypatch.setattr(pulumi.CustomResource, "__init__", recording_init)
    monkeypatch.setattr(mocks, "new_resource", recording_new_resource)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "PULUMI_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    # A fresh root stack and settings for every test: nothing registered or exported leaks into the next one.
    pulumi.runtime.reset_options(project=PROJECT, stack=STACK, preview=False)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False)

    def run(
        check: Callable[[Deployed], None],
        config: dict[str, Any] | None = None,
        declared: Declarations | None = None,
        stack: str | None = None,
        program: Callable[[], object] = main,
        base_config: bool = True,
    ) -> pulumi.Output[Any]:
        if stack is not None:
            pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=False)
            pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
        declarations = declared or Declarations.from_catalog()
        artifact_dir = write_fake_artifacts(tmp_path / "build", {f.name for f in declarations.functions})
        values = {"aws:region": REGION, f"{PROJECT}:artifactDir": str(artifact_dir)}
        if base_config:
            # What a test leaves out: a stack that says Cognito's own sender is enough (test_email.py says more).
            values |= {f"{PROJECT}:cognitoDefaultEmailIsEnough": "true"}
        values |= {key if ":" in key else f"{PROJECT}:{key}": _config_value(v) for key, v in (config or {}).items()}
        pulumi.runtime.set_all_config(values)
        if declared is None:
            program()
            outputs = dict(pulumi.runtime.get_root_resource().outputs)
        else:
            outputs = build_stack(load_settings(), declared).outputs

        def checked(resolved: list[Any]) -> None:
            # The engine would reject two resources with one URN; the mock monitor does not, so check here.
            names = [(r.type, r.name) for r in mocks.resources]
            assert len(names) == len(set(names)), "two resources with the same type and name"
            check(
                Deployed(
                    resources=list(mocks.resources),
                    outputs=resolved[-1],
                    declared=declarations,
                    explicit_dependencies=dependencies,
                    resource_options=options,
                )
            )

        return pulumi.Output.all(*[r.urn for r in created], pulumi.Output.from_input(outputs)).apply(checked)

    run.mocks = mocks  # type: ignore[attr-defined]
    yield run
    pulumi.runtime.set_all_config({})


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@pytest.fixture
def real_catalog() -> Declarations:
    return Declarations.from_catalog()


__all__ = ["Deployed", "Registered", "catalog"]
