"""The shapes of the users API. Field names are the existing contract's: snake_case, `avatar_url` included."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from lambdas.shared.models import no_control_characters
from lambdas.users.rules import MAX_NAME_LENGTH


def _lower(value: str) -> str:
    return value.lower()


class NewUser(BaseModel):
    """The text fields of the form: the name trimmed, the email checked and stored lower-case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(no_control_characters)]
    email: Annotated[EmailStr, AfterValidator(_lower)]


class User(BaseModel):
    id: str
    name: str
    email: str
    avatar_url: str = Field(description="A presigned GET of the avatar image: no credentials needed, for an hour")
