"""Every stack file in the repository (`Pulumi.<stack>.yaml`) passes preview under the mocks, with its own name and
config: the names AWS would refuse, the email sender, the CORS origins and the bucket lifecycle are all checked at
preview, so a stack file that breaks one fails here, not at `pulumi up`."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest
import yaml

from unit_tests.infra.conftest import Deployed
from unit_tests.infra.test_lifecycle import unexpired_deletes
from unit_tests.infra.test_names import check_every_physical_name_is_valid

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def test_the_repository_has_stack_files():
    assert STACK_FILES


def check_the_stack(deployed: Deployed) -> None:
    check_every_physical_name_is_valid(deployed)
    assert unexpired_deletes(deployed) == []


@pytest.mark.parametrize("path", STACK_FILES, ids=[path.name for path in STACK_FILES])
@pulumi.runtime.test
def test_each_stack_file_passes_preview(deploy, path: Path):
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    config = yaml.safe_load(path.read_text()).get("config") or {}
    # The zips are fakes the harness writes: where the stack keeps its zips does not matter here.
    config.pop("serverless-platform:artifactDir", None)
    return deploy(check_the_stack, config=config, stack=stack, base_config=False)
