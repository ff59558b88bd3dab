from __future__ import annotations

import types
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from lambdas import catalog
from lambdas.catalog import PROTECTED, PUBLIC, Function, Index, Key, RouteDeclarationError, Table
from lambdas.shared.api import resolver


@pytest.fixture
def functions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Function]]:
    """Replaces the catalog's functions with ones whose resolvers the test declares."""
    declared: list[Function] = []
    monkeypatch.setattr(catalog.functions, "FUNCTIONS", declared)
    catalog.routes.cache_clear()
    yield declared
    catalog.routes.cache_clear()


def function_with(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Function, APIGatewayRestResolver]:
    app = resolver()  # the shared resolver every function uses, with the API's security scheme
    module = types.ModuleType(f"lambdas.{name}.handler")
    module.app = app  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, module.__name__, module)
    return Function(name=name, description=name), app


def test_routes_are_read_from_the_resolvers(functions: list[Function], monkeypatch: pytest.MonkeyPatch) -> None:
    things, app = function_with("things", monkeypatch)
    app.get("/things/<thingId>", security=PROTECTED)(lambda thingId: None)
    app.post("/things", security=PUBLIC)(lambda: None)
    functions.append(things)

    routes = catalog.routes()

    assert [(r.method, r.path, r.public, r.function.name) for r in routes] == [
        ("POST", "/things", True, "things"),
        ("GET", "/things/{thingId}", False, "things"),
    ]
    assert routes[1].path_pattern.match("/things/a-1").groupdict() == {"thingId": "a-1"}
    assert routes[1].path_pattern.match("/things/a/b") is None
    assert routes[0].path_pattern.match("/things\n") is None  # `$` would match before a final newline


def test_routes_are_read_through_the_public_openapi_schema(
    functions: list[Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    things, app = function_with("things", monkeypatch)
    app.get("/things", security=PUBLIC)(lambda: None)
    functions.append(things)
    published = '{"paths": {"/published/{id}": {"put": {"security": [{"CognitoUserPool": []}]}}}}'
    monkeypatch.setattr(app, "get_openapi_json_schema", lambda: published)

    assert [(r.method, r.path, r.public) for r in catalog.routes()] == [("PUT", "/published/{id}", False)]


def test_a_route_must_say_whether_it_is_public(functions: list[Function], monkeypatch: pytest.MonkeyPatch) -> None:
    things, app = function_with("things", monkeypatch)
    app.get("/things")(lambda: None)
    functions.append(things)

    with pytest.raises(RouteDeclarationError, match="GET /things must declare security"):
        catalog.routes()


def test_a_route_is_declared_once(functions: list[Function], monkeypatch: pytest.MonkeyPatch) -> None:
    first, first_app = function_with("first", monkeypatch)
    second, second_app = function_with("second", monkeypatch)
    first_app.get("/things", security=PUBLIC)(lambda: None)
    second_app.get("/things", security=PUBLIC)(lambda: None)
    functions.extend([first, second])

    with pytest.raises(RouteDeclarationError, match="declared by both first and second"):
        catalog.routes()


def test_every_declared_route_of_the_platform_says_public_or_protected() -> None:
    routes = catalog.routes()

    assert routes, "no routes declared"
    public = {(route.method, route.path) for route in routes if route.public}
    assert all(path.startswith(("/auth/", "/health", "/docs", "/swagger", "/openapi.json")) for _, path in public)


def test_table_attributes_are_every_key_once() -> None:
    table = Table(
        name="t",
        env_var="T",
        partition_key=Key("pk"),
        sort_key=Key("sk"),
        indexes=(Index("byA", Key("a"), Key("sk")), Index("byB", Key("b", "N"))),
    )

    assert table.attributes == (Key("pk"), Key("sk"), Key("a"), Key("b", "N"))


def test_stack_outputs_have_the_agreed_keys() -> None:
    outputs = catalog.stack_outputs(
        api_url="u", region="r", user_pool_id="p", user_pool_client_id="c", tables={"t": "x"}, buckets={}
    )

    assert set(outputs) == {"apiUrl", "region", "userPoolId", "userPoolClientId", "tables", "buckets"}
    assert "awsEndpoint" in catalog.stack_outputs(
        api_url="u", region="r", user_pool_id="p", user_pool_client_id="c", tables={}, buckets={}, aws_endpoint="e"
    )


def test_the_route_table_lists_every_route_once() -> None:
    table = catalog.route_table().splitlines()

    assert len(table) == 2 + len(catalog.routes())
    assert "| POST | `/tenants` | Cognito ID token | tenants |" in table
    assert "| GET | `/health` | public | platform |" in table
