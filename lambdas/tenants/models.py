from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, EmailStr, Field

from lambdas.shared.models import RequestModel, ResponseModel, no_control_characters
from lambdas.tenants.website import normalise_website

Plan = Literal["free", "pro", "enterprise"]


class NewTenant(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(no_control_characters)]
    website: Annotated[str, Field(max_length=2048), AfterValidator(normalise_website)]
    contact_email: EmailStr
    plan: Plan = "free"


class Tenant(ResponseModel):
    id: str
    name: str
    website: str
    contact_email: str
    plan: Plan
