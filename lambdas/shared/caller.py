"""Who is calling a protected route, as API Gateway's Cognito authorizer tells the function.

API Gateway (REST) verifies the ID token and passes its claims in `requestContext.authorizer.claims`, every
value a string: `cognito:groups` is the group names joined by commas (``admins,ops``), absent for a user in no
group. A function behind a protected route trusts these claims and nothing else of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdas.shared.errors import Unauthorized

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


@dataclass(frozen=True)
class Caller:
    sub: str
    email: str | None
    groups: tuple[str, ...]

    def in_group(self, group: str) -> bool:
        return group in self.groups


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The caller of the request `app` is resolving; Unauthorized if the event carries no authorizer claims."""
    return caller_from_claims(app.current_event.request_context.authorizer.claims)


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    sub = str((claims or {}).get("sub") or "").strip()
    if not claims or not sub:
        # Only a route deployed without the authorizer gets here: a configuration fault, answered as API Gateway
        # would answer a request without a valid token.
        raise Unauthorized("Unauthorized")
    email = claims.get("email")
    return Caller(sub=sub, email=str(email) if email else None, groups=_groups(claims.get("cognito:groups")))


def _groups(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    # A list only from a hand-made event; API Gateway always sends the joined string.
    names = [str(name) for name in value] if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(name.strip() for name in names if name.strip())
