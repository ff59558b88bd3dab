from __future__ import annotations

import inspect
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from lambdas import catalog
from unit_tests.infra.conftest import REGION, STACK, Deployed

ROOT = Path(__file__).resolve().parents[2]
PREFIX = f"serverless-platform-{STACK}-"
# Each pulumi-aws module the program uses → the aws:endpoints key that redirects it.
ENDPOINT_KEYS = {
    "apigateway": "apigateway",
    "cloudwatch": "cloudwatchlogs",
    "cognito": "cognitoidp",
    "dynamodb": "dynamodb",
    "iam": "iam",
    "lambda": "lambda",
    "s3": "s3",
}


def dev_stack_config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]


def expected_keys(with_endpoint: bool) -> set[str]:
    return set(
        catalog.stack_outputs(
            api_url="",
            region="",
            user_pool_id="",
            user_pool_client_id="",
            tables={},
            buckets={},
            aws_endpoint="x" if with_endpoint else None,
        )
    )


@pulumi.runtime.test
def test_every_stack_output_key_is_exported(deploy):
    def check(deployed: Deployed) -> None:
        outputs = deployed.outputs
        assert set(outputs) == expected_keys(with_endpoint=False)
        assert outputs["apiUrl"] == f"https://restapi1.execute-api.{REGION}.amazonaws.com/{STACK}"
        assert outputs["region"] == REGION
        assert outputs["userPoolId"] == deployed.one("aws:cognito/userPool:UserPool").state["__id"]
        assert outputs["userPoolClientId"] == deployed.one("aws:cognito/userPoolClient:UserPoolClient").state["__id"]
        assert outputs["tables"] == {t.name: f"{PREFIX}{t.name}" for t in catalog.TABLES}
        assert outputs["buckets"] == {
            b.name: deployed.one("aws:s3/bucket:Bucket", bucketPrefix=f"{PREFIX}{b.name}-").state["bucket"]
            for b in catalog.BUCKETS
        }

    return deploy(check)


@pulumi.runtime.test
def test_the_dev_stack_points_every_service_at_localstack_and_exports_its_endpoint(deploy):
    config = dev_stack_config()

    def check(deployed: Deployed) -> None:
        [endpoints] = config["aws:endpoints"]
        assert set(endpoints.values()) == {"http://localhost:4566"}
        # A key the provider does not know is an error only at `pulumi up`: check them against its schema.
        known = {name.removesuffix("_") for name in inspect.signature(aws.ProviderEndpointArgs).parameters}  # lambda_
        assert set(endpoints) <= known, set(endpoints) - known
        used = {r.type.split(":")[1].split("/")[0] for r in deployed.resources if r.type.startswith("aws:")}
        missing = used - ENDPOINT_KEYS.keys()
        assert not missing, f"add an aws:endpoints entry to Pulumi.dev.yaml for {missing}, and map it here"
        assert {ENDPOINT_KEYS[module] for module in used} | {"sts"} <= set(endpoints)
        outputs = deployed.outputs
        assert set(outputs) == expected_keys(with_endpoint=True)
        assert outputs["awsEndpoint"] == "http://localhost:4566"
        # LocalStack's execute-api path since 3.8; `/restapis/<id>/<stage>/_user_request_` is deprecated.
        assert outputs["apiUrl"] == "http://localhost:4566/_aws/execute-api/restapi1/dev"
        # The dev stack's settings: trigger on, nothing protected, x86_64 zips.
        assert deployed.one("aws:lambda/function:Function", name=f"{PREFIX}presignup")
        for table in deployed.of_type("aws:dynamodb/table:Table"):
            assert table.inputs["deletionProtectionEnabled"] is False
        for function in deployed.of_type("aws:lambda/function:Function"):
            assert function.inputs["architectures"] == ["x86_64"]

    for key in ("aws:skipCredentialsValidation", "aws:skipMetadataApiCheck"):
        assert config[key] is True
    # The account id comes from LocalStack's STS: without it the provider builds ARNs with no account
    # (`arn:aws:execute-api:us-east-1::<api>`), which the API's Lambda permissions are scoped to.
    assert "aws:skipRequestingAccountId" not in config
    assert config["aws:s3UsePathStyle"] is True
    assert config["aws:accessKey"] == config["aws:secretKey"] == "test"
    return deploy(check, config=config)


@pulumi.runtime.test
def test_main_module_is_the_program(deploy):
    """`__main__.py`, run as the Pulumi CLI runs it, exports every output."""

    def check(deployed: Deployed) -> None:
        assert set(deployed.outputs) == expected_keys(with_endpoint=False)
        assert deployed.of_type("aws:apigateway/restApi:RestApi")

    return deploy(check, program=lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))


def test_pulumi_project_file():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "serverless-platform"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": ".venv"}


def test_localstack_compose_file():
    compose = yaml.safe_load((ROOT / "docker-compose.localstack.yml").read_text())
    service = compose["services"]["localstack"]
    image, _, tag = service["image"].partition(":")
    assert image == "localstack/localstack"
    assert tag and tag != "latest" and tag[0].isdigit(), "pin a version tag"
    environment = service["environment"]
    assert environment["LOCALSTACK_AUTH_TOKEN"].startswith("${LOCALSTACK_AUTH_TOKEN")
    assert environment["PERSISTENCE"] == "1"
    assert "/var/run/docker.sock:/var/run/docker.sock" in service["volumes"]
    [data] = [v for v in service["volumes"] if v.endswith(":/var/lib/localstack")]
    assert data.split(":")[0] in compose["volumes"], "state on a named volume"
    assert "/_localstack/health" in " ".join(service["healthcheck"]["test"])
    assert "127.0.0.1:4566:4566" in service["ports"]
