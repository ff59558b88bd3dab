"""What API Gateway itself answers: unknown routes, wrong methods, the docs."""

from __future__ import annotations

from integration_tests.conftest import Api


def test_unknown_route_is_404_json(api: Api) -> None:
    response = api.get("/no/such/route")

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert response.json()["requestId"]


def test_wrong_method_is_405_json(api: Api) -> None:
    response = api.delete("/tenants")

    assert response.status_code == 405
    assert response.json()["message"] == "Method Not Allowed"


def test_health_is_public(api: Api) -> None:
    response = api.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_one_openapi_document_for_the_whole_api(api: Api) -> None:
    document = api.get("/openapi.json").json()

    assert {"/tenants", "/tenants/{tenantId}", "/health", "/auth/login"} <= set(document["paths"])
    assert document["paths"]["/tenants"]["post"]["security"] == [{"CognitoUserPool": []}]
    assert document["paths"]["/health"]["get"]["security"] == [{}]


def test_swagger_ui_is_served(api: Api) -> None:
    response = api.get("/docs")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "swagger-ui-bundle.js" in response.text
