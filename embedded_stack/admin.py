"""`make admin EMAIL=...`: adds a user to the user pool's admin group on the running embedded stack.

Reads the stack's outputs file (.local-stack/outputs.json, or in $STACK_STATE_DIR; written by `make run`) for the
pool and moto's endpoint. For a deployed stack use the AWS CLI (docs/api.md, "Tenants").
"""

from __future__ import annotations

import json
import sys

import boto3

from embedded_stack.stack import OUTPUTS_NAME
from embedded_stack.state_lock import state_dir_from_environment
from lambdas.catalog import USER_POOL


def make_admin(email: str, outputs: dict[str, object]) -> None:
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=str(outputs["awsEndpoint"]),
        region_name=str(outputs["region"]),
        aws_access_key_id="embedded",
        aws_secret_access_key="embedded",
    )
    cognito.admin_add_user_to_group(
        UserPoolId=str(outputs["userPoolId"]), Username=email, GroupName=USER_POOL.admin_group
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0]:
        print("usage: make admin EMAIL=someone@example.com", file=sys.stderr)
        return 2
    outputs_file = state_dir_from_environment() / OUTPUTS_NAME
    if not outputs_file.exists():
        print(f"{outputs_file} not found: start the stack with `make run` first", file=sys.stderr)
        return 1
    make_admin(argv[0], json.loads(outputs_file.read_text()))
    print(f"{argv[0]} is in {USER_POOL.admin_group}: log in again for a token that says so")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
