from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from lambdas.catalog import PROTECTED
from lambdas.shared.api import lambda_handler_for, resolver
from lambdas.shared.errors import NotFound
from lambdas.tenants import store
from lambdas.tenants.models import NewTenant, Tenant

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)


@app.post("/tenants", security=PROTECTED, status_code=201, tags=["tenants"], summary="Create a tenant")
def create_tenant(new: NewTenant) -> Response[Tenant]:
    tenant = store.create_tenant(new)
    logger.info("tenant created", tenant_id=tenant.id)
    location = f"{app.current_event.request_context.path.rstrip('/')}/{tenant.id}"
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=tenant.to_json(),
        headers={"Location": location},
    )


@app.get("/tenants/<tenantId>", security=PROTECTED, tags=["tenants"], summary="Get a tenant")
def get_tenant(tenantId: Annotated[UUID, Path(description="The tenant's id")]) -> Tenant:
    tenant = store.get_tenant(str(tenantId))
    if tenant is None:
        raise NotFound(f"tenant {tenantId} not found")
    return tenant
