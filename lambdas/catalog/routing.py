"""The API's routes, read from the functions' Powertools resolvers: the one place routes are declared.

They are read through the resolvers' public interface, the OpenAPI schema each builds from its route decorators
(paths, methods and each operation's `security`), so a Powertools upgrade cannot change the API unnoticed.
"""

from __future__ import annotations

import json
from functools import cache

from lambdas.catalog import functions as declared_functions
from lambdas.catalog.model import PROTECTED, PUBLIC, Route


class RouteDeclarationError(ValueError):
    pass


@cache
def routes() -> tuple[Route, ...]:
    """Every route of the API, read from the functions' Powertools resolvers, sorted by path and method."""
    found: dict[tuple[str, str], Route] = {}
    for function in declared_functions.FUNCTIONS:
        if not function.serves_api:
            continue
        schema = json.loads(function.resolver().get_openapi_json_schema())
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                route = Route(
                    method=method.upper(),
                    path=path,
                    function=function,
                    public=_is_public(operation.get("security"), f"{method.upper()} {path}"),
                )
                key = (route.method, route.path)
                if key in found:
                    raise RouteDeclarationError(
                        f"{route.method} {route.path} is declared by both {found[key].function.name} and "
                        f"{function.name}"
                    )
                found[key] = route
    return tuple(sorted(found.values(), key=lambda route: (route.path, route.method)))


def _is_public(security: list[dict[str, list[str]]] | None, where: str) -> bool:
    if security == PUBLIC:
        return True
    if security == PROTECTED:
        return False
    raise RouteDeclarationError(f"{where} must declare security=PROTECTED or security=PUBLIC")


def resource_paths() -> tuple[str, ...]:
    """Every distinct route path, in order."""
    return tuple(dict.fromkeys(route.path for route in routes()))


def route_table() -> str:
    """The routes as a Markdown table (`make routes`)."""
    rows = ["| method | path | auth | function |", "|---|---|---|---|"]
    rows += [
        f"| {route.method} | `{route.path}` | {'public' if route.public else 'Cognito ID token'} | "
        f"{route.function.name} |"
        for route in routes()
    ]
    return "\n".join(rows)
