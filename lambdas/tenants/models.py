from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from lambdas.shared.email_address import EmailAddress
from lambdas.shared.models import RequestModel, ResponseModel, one_line
from lambdas.tenants.website import WEBSITE_PATTERN, website

Plan = Literal["free", "pro", "enterprise"]
FREE: Plan = "free"


class NewTenant(RequestModel):
    name: one_line(200)  # type: ignore[valid-type]
    # The pattern is checked by `website`, after the rules it can name (a pydantic pattern says only "no match").
    website: Annotated[
        str,
        BeforeValidator(website),
        Field(
            max_length=2048,
            json_schema_extra={"pattern": WEBSITE_PATTERN},
            description="A domain name (example.com, bücher.de) or an http(s) URL, of which only the host is kept; "
            "stored in lower case, an internationalised name in its xn-- form.",
        ),
    ]
    contact_email: EmailAddress
    plan: Annotated[Plan, Field(description="Only an administrator may choose a plan other than free.")] = FREE


class Tenant(ResponseModel):
    id: str
    name: str
    website: str
    contact_email: str
    plan: Plan
    owner: str  # the creator's Cognito sub


class TenantPage(ResponseModel):
    items: list[Tenant]
    next_cursor: str | None  # null on the last page
