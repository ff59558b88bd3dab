"""The shapes of the users API. Field names are the existing contract's: snake_case, `avatar_url` included."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from lambdas.shared.email_address import EmailAddress
from lambdas.shared.models import FormModel, one_line
from lambdas.users.rules import MAX_NAME_LENGTH


def _lower(value: str) -> str:
    return value.lower()


class NewUser(FormModel):
    """The text fields of the form: the name trimmed, the email checked and stored lower-case."""

    name: one_line(MAX_NAME_LENGTH)  # type: ignore[valid-type]
    email: Annotated[EmailAddress, AfterValidator(_lower), Field(description="Unique, in any case")]


class User(BaseModel):
    id: str
    name: str
    email: str
    avatar_url: str | None = Field(
        description="A presigned GET of the avatar image: no credentials needed, for up to an hour. Null when the "
        "image was lost: uploaded, but expired before it could be kept (docs/api.md)"
    )
