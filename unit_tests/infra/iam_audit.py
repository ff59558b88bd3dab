"""Every IAM policy the program generates, linted by parliament (Duo Labs' IAM linter) as AWS would read it.

parliament checks each action against the Service Authorization Reference: which resource ARN format the action
is authorised on (`RESOURCE_MISMATCH`: the bare log-group ARN for logs:CreateLogStream), unknown actions, malformed
statements, mismatched condition types. A finding at MEDIUM or above fails the tests unless `ALLOWED` explains it.
"""

from __future__ import annotations

import importlib.resources
import json
import sys
import types
import warnings
from dataclasses import dataclass
from typing import Any

from unit_tests.infra.conftest import ACCOUNT, REGION, Deployed


def _import_parliament() -> types.ModuleType:
    """parliament 1.6.4 finds its data files with `pkg_resources`, which setuptools (pinned at 84 by chalice) no
    longer ships. Its one use is `resource_filename` at import time: lend it that, for the import only."""
    if "pkg_resources" in sys.modules:
        import parliament

        return parliament
    shim = types.ModuleType("pkg_resources")
    shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim
    try:
        # Its regular expressions are written without raw strings: compiling them warns, once, about escapes.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            import parliament
    finally:
        del sys.modules["pkg_resources"]
    return parliament


parliament = _import_parliament()

SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
FAILING_SEVERITY = "MEDIUM"


@dataclass(frozen=True)
class Policy:
    """One generated policy document. kind: `identity` (a role's permissions), `trust` (who may assume a role) or
    `resource` (a bucket's policy, or the statement Lambda adds for a `lambda.Permission`)."""

    kind: str
    source: str
    document: str


@dataclass(frozen=True)
class Finding:
    kind: str
    source: str
    issue: str
    severity: str
    detail: str


@dataclass(frozen=True)
class Allowed:
    """A finding that is not a defect, with the reason next to it."""

    kind: str
    issue: str
    detail: str
    why: str


ALLOWED = (
    Allowed(
        kind="trust",
        issue="MALFORMED",
        detail="Statement contains neither Resource nor NotResource",
        why=(
            "A role trust policy has no Resource element: the role it is attached to is the resource (IAM User "
            "Guide, 'IAM JSON policy elements: Resource': not used in role trust policies). parliament lints every "
            "document with the identity-policy grammar, so it reports every trust policy there is."
        ),
    ),
)

# Registered inputs that hold an IAM policy document, by resource type: every one is audited.
POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": ("identity", "policy"),
    "aws:iam/role:Role": ("trust", "assumeRolePolicy"),
    "aws:s3/bucketPolicy:BucketPolicy": ("resource", "policy"),
}


def lambda_permission_policy(inputs: dict[str, Any]) -> str:
    """The statement Lambda's AddPermission adds to the function's resource policy for a `lambda.Permission`."""
    statement: dict[str, Any] = {
        "Sid": inputs.get("statementId", "GeneratedByPulumi"),
        "Effect": "Allow",
        "Principal": {"Service": inputs["principal"]},
        "Action": inputs["action"],
        "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{inputs['function']}",
    }
    if "sourceArn" in inputs:
        statement["Condition"] = {"ArnLike": {"AWS:SourceArn": inputs["sourceArn"]}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def generated_policies(deployed: Deployed) -> list[Policy]:
    policies = []
    for resource in deployed.resources:
        if resource.type in POLICY_INPUTS:
            kind, key = POLICY_INPUTS[resource.type]
            policies.append(Policy(kind, f"{resource.type} {resource.name}", resource.inputs[key]))
        elif resource.type == "aws:lambda/permission:Permission":
            policies.append(
                Policy("resource", f"{resource.type} {resource.name}", lambda_permission_policy(resource.inputs))
            )
    return policies


def _is_policy_document(value: object) -> bool:
    if not isinstance(value, str) or "Statement" not in value:
        return False
    try:
        return "Statement" in json.loads(value)
    except ValueError:
        return False


def unaudited_policy_inputs(deployed: Deployed) -> list[str]:
    """Inputs holding a policy document on a resource type the audit does not read: a new kind must join it."""
    return [
        f"{resource.type} {resource.name}: {key}"
        for resource in deployed.resources
        for key, value in resource.inputs.items()
        if _is_policy_document(value) and POLICY_INPUTS.get(resource.type, ("", ""))[1] != key
    ]


def findings(policy: Policy) -> list[Finding]:
    analysed = parliament.analyze_policy_string(policy.document, include_community_auditors=True)
    found = []
    for finding in analysed.findings:
        try:
            parliament.enhance_finding(finding)
            severity = finding.severity
        except Exception:  # a community auditor's issue (CREDENTIALS_EXPOSURE) parliament's config does not rate
            severity = "HIGH"
        found.append(Finding(policy.kind, policy.source, finding.issue, severity, str(finding.detail)))
    return found


def failing(found: list[Finding]) -> list[Finding]:
    threshold = SEVERITIES.index(FAILING_SEVERITY)
    return [finding for finding in found if SEVERITIES.index(finding.severity) >= threshold]


def allowance(finding: Finding) -> Allowed | None:
    return next(
        (a for a in ALLOWED if (a.kind, a.issue, a.detail) == (finding.kind, finding.issue, finding.detail)),
        None,
    )
