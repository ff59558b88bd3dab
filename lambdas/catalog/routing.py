"""The API's routes, read from the functions' Powertools resolvers: the one place routes are declared."""

from __future__ import annotations

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
        resolver = function.resolver()
        for declared in resolver._static_routes + resolver._dynamic_routes:
            route = Route(
                method=declared.method.upper(),
                path=declared.openapi_path,
                function=function,
                public=_is_public(declared.security, f"{declared.method} {declared.path}"),
            )
            key = (route.method, route.path)
            if key in found:
                raise RouteDeclarationError(
                    f"{route.method} {route.path} is declared by both {found[key].function.name} and {function.name}"
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
