"""Tenant accounts. Every route is protected; a tenant is visible to its owner (its creator) and to admins only,
and to anyone else it does not exist (404). Only an admin may choose a plan other than free."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from lambdas.catalog import PROTECTED, USER_POOL
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.caller import Caller, current_caller
from lambdas.shared.errors import FieldError, Forbidden, NotFound
from lambdas.shared.pagination import MAX_CURSOR_LENGTH, Listing
from lambdas.tenants import store
from lambdas.tenants.models import FREE, NewTenant, Tenant, TenantPage

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
NO_SUCH_TENANT = "No tenant with this id exists, or it is not yours."
PAID_PLAN = "Only an administrator can create a tenant on a plan other than free."


@app.post(
    "/tenants",
    security=PROTECTED,
    status_code=201,
    tags=["tenants"],
    summary="Create a tenant, owned by the caller",
    responses=responses(
        201,
        "The tenant, with its Location",
        {403: "A plan other than free, asked for by a caller who is not an admin", 409: "The website is taken"},
    ),
)
def create_tenant(new: NewTenant) -> Response[Tenant]:
    caller = current_caller(app)
    if new.plan != FREE and not is_admin(caller):
        raise Forbidden(PAID_PLAN, (FieldError("body.plan", "can be other than free only for an administrator"),))
    tenant = store.create_tenant(new, owner=caller.sub)
    logger.info("tenant created", tenant_id=tenant.id, owner=caller.sub)
    location = f"{app.current_event.request_context.path.rstrip('/')}/{tenant.id}"
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=tenant.to_json(),
        headers={"Location": location},
    )


@app.get("/tenants", security=PROTECTED, tags=["tenants"], summary="List the caller's tenants (every one for admins)")
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Tenants per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="nextCursor of the previous page")
    ] = None,
) -> TenantPage:
    caller = current_caller(app)
    owner = None if is_admin(caller) else caller.sub
    listing = Listing.of("tenants", owner)  # an owner's cursor is no other owner's, nor an admin's
    page = store.list_page(owner, limit, listing.after(cursor))
    return TenantPage(items=page.items, next_cursor=listing.next_cursor(page))


@app.get(
    "/tenants/<tenantId>",
    security=PROTECTED,
    tags=["tenants"],
    summary="Get a tenant",
    responses=responses(200, "The tenant", {404: "No such tenant, or one the caller neither owns nor administers"}),
)
def get_tenant(tenantId: Annotated[UUID, Path(description="The tenant's id")]) -> Tenant:
    caller = current_caller(app)
    tenant = store.get_tenant(str(tenantId))
    if tenant is None or not (tenant.owner == caller.sub or is_admin(caller)):
        raise NotFound(NO_SUCH_TENANT)
    return tenant


def is_admin(caller: Caller) -> bool:
    return caller.in_group(USER_POOL.admin_group)
