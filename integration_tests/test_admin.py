"""`make admin` makes a signed-up user an admin on the embedded stack: its next token carries the group."""

from __future__ import annotations

from typing import Any

import pytest

from embedded_stack.admin import main, make_admin
from integration_tests.auth_fixtures import sign_up_and_log_in
from integration_tests.conftest import Api


def test_an_admin_reads_anyones_tenant(api: Api, outputs: dict[str, Any]) -> None:
    if "awsEndpoint" not in outputs:
        pytest.skip("a deployed stack: admins are made with the AWS CLI")
    owner, admin = sign_up_and_log_in(api), sign_up_and_log_in(api)
    tenant = api.post("/tenants", json={"name": "A", "website": f"{owner.user_id[:8]}.example",
                                        "contactEmail": "a@b.example"}, headers=owner.headers).json()  # fmt: skip
    assert api.get(f"/tenants/{tenant['id']}", headers=admin.headers).status_code == 404

    make_admin(admin.email, outputs)
    token = api.post("/auth/login", json={"email": admin.email, "password": admin.password}).json()["idToken"]

    assert api.get(f"/tenants/{tenant['id']}", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_make_admin_needs_an_email() -> None:
    assert main([]) == 2
