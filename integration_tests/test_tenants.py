from __future__ import annotations

import uuid

import pytest

from integration_tests.auth_fixtures import SignedInUser
from integration_tests.conftest import Api


def new_tenant(**overrides: str) -> dict[str, str]:
    unique = uuid.uuid4().hex[:12]
    return {
        "name": f"Tenant {unique}",
        "website": f"https://www.{unique}.example/about",
        "contactEmail": f"ops@{unique}.example",
        **overrides,
    }


def test_create_then_get(api: Api, auth_headers: dict[str, str]) -> None:
    body = new_tenant()

    created = api.post("/tenants", json=body, headers=auth_headers)

    assert created.status_code == 201, created.text
    tenant = created.json()
    assert tenant["website"] == body["website"].removeprefix("https://").removesuffix("/about")
    assert tenant["plan"] == "free"
    assert set(tenant) == {"id", "name", "website", "contactEmail", "plan", "owner"}
    location = created.headers["Location"]
    assert location.endswith(f"/tenants/{tenant['id']}")
    fetched = api.get(f"/tenants/{tenant['id']}", headers=auth_headers)
    assert fetched.status_code == 200
    assert fetched.json() == tenant


def test_an_international_website_is_stored_in_its_punycode_form_and_is_one_website(
    api: Api, auth_headers: dict[str, str]
) -> None:
    unique = uuid.uuid4().hex[:8]
    created = api.post("/tenants", json=new_tenant(website=f"https://Bücher.{unique}.example/"), headers=auth_headers)
    punycode = api.post("/tenants", json=new_tenant(website=f"xn--bcher-kva.{unique}.example"), headers=auth_headers)

    assert created.status_code == 201, created.text
    assert created.json()["website"] == f"xn--bcher-kva.{unique}.example"
    assert punycode.status_code == 409, punycode.text  # the same domain, spelt the other way


def test_a_website_has_as_many_labels_as_dns_allows(api: Api, auth_headers: dict[str, str]) -> None:
    website = "a." * 100 + f"{uuid.uuid4().hex[:8]}.example"

    created = api.post("/tenants", json=new_tenant(website=website), headers=auth_headers)

    assert created.status_code == 201, created.text
    assert created.json()["website"] == website


def test_the_same_website_twice_is_409(api: Api, auth_headers: dict[str, str]) -> None:
    body = new_tenant()
    assert api.post("/tenants", json=body, headers=auth_headers).status_code == 201

    again = api.post("/tenants", json=new_tenant(website=body["website"].upper()), headers=auth_headers)

    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "body.website"
    assert again.json()["requestId"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"website": "localhost"}, "body.website"),
        ({"website": "exa_mple.com"}, "body.website"),
        ({"contactEmail": "not-an-email"}, "body.contactEmail"),
        ({"plan": "platinum"}, "body.plan"),
        ({"name": ""}, "body.name"),
        ({"unknown": "x"}, "body"),
    ],
)
def test_invalid_input_is_400_naming_the_field(
    api: Api, auth_headers: dict[str, str], change: dict[str, str], field: str
) -> None:
    response = api.post("/tenants", json=new_tenant(**change), headers=auth_headers)

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]


def test_bad_json_is_400(api: Api, auth_headers: dict[str, str]) -> None:
    response = api.post("/tenants", data="{oops", headers={**auth_headers, "Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "is not valid JSON"}]


def test_unknown_tenant_is_404_and_a_malformed_id_400(api: Api, auth_headers: dict[str, str]) -> None:
    assert api.get(f"/tenants/{uuid.uuid4()}", headers=auth_headers).status_code == 404
    assert api.get("/tenants/12345", headers=auth_headers).status_code == 400


def test_tenants_need_a_token(api: Api) -> None:
    response = api.post("/tenants", json=new_tenant())

    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized"
    assert api.get(f"/tenants/{uuid.uuid4()}").status_code == 401


def test_another_user_neither_reads_nor_lists_my_tenant(
    api: Api, auth_headers: dict[str, str], other_user: SignedInUser
) -> None:
    tenant = api.post("/tenants", json=new_tenant(), headers=auth_headers).json()

    assert api.get(f"/tenants/{tenant['id']}", headers=other_user.headers).status_code == 404
    listed = api.get("/tenants", params={"limit": 100}, headers=other_user.headers)
    assert listed.status_code == 200
    assert tenant["id"] not in [item["id"] for item in listed.json()["items"]]


def test_a_paid_plan_is_403_for_a_user(api: Api, auth_headers: dict[str, str]) -> None:
    refused = api.post("/tenants", json=new_tenant(plan="pro"), headers=auth_headers)

    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "body.plan"
