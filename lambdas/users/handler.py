"""The users directory: list, create (multipart/form-data with the avatar image), read, delete.

Every route is protected. Everyone signed in sees every user (a directory); a user is deleted by whoever created it
or by a member of the admins group. See store.py for the data design and how a create never half-writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import ValidationError

from lambdas.catalog import PROTECTED, USER_POOL
from lambdas.shared.api import ERROR_SCHEMA_REF, lambda_handler_for, resolver
from lambdas.shared.caller import current_caller
from lambdas.shared.errors import INVALID_REQUEST, DomainError, FieldError, Forbidden, NotFound, UnsupportedMediaType
from lambdas.users import rules, store
from lambdas.users.form import FILE_FIELD, read_form
from lambdas.users.models import NewUser, User

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
IMAGE_FORMATS = "a PNG, JPEG, GIF or WebP image"


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}


_NEW_USER_FORM = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "email", "avatar"],
                "properties": {
                    **NewUser.model_json_schema()["properties"],
                    "avatar": {
                        "type": "string",
                        "format": "binary",
                        "description": f"{IMAGE_FORMATS}, at most 4 MiB; its type is read from its bytes, not its name",
                    },
                },
            }
        }
    },
}


@app.get("/users", security=PROTECTED, tags=["users"], summary="List users, newest first")
def list_users(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Users per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="From the previous page's Link rel=next")] = None,
) -> Response[list[User]]:
    current_caller(app)  # a call no authorizer vouched for must still be a 401
    page = store.list_page(limit, rules.LISTING.after(cursor))
    headers = {}
    next_cursor = rules.LISTING.next_cursor(page)
    if next_cursor is not None:
        query = urlencode({"limit": limit, "cursor": next_cursor})
        headers["Link"] = f'<{_base_path()}/users?{query}>; rel="next"'
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=[user.model_dump(mode="json") for user in page.items],
        headers=headers,
    )


@app.post(
    "/user",
    security=PROTECTED,
    status_code=201,
    tags=["users"],
    summary="Create a user with an avatar image",
    openapi_extensions={"requestBody": _NEW_USER_FORM},
    responses={
        201: {"description": "Created", "content": {"application/json": {"model": User}}},
        400: _error("A field is missing or invalid, or the avatar is empty"),
        409: _error("Another user has this email address"),
        413: _error("The avatar is larger than 4 MiB"),
        415: _error(f"The body is not multipart/form-data, or the avatar is not {IMAGE_FORMATS}"),
    },
)
def create_user() -> Response[User]:
    caller = current_caller(app)
    event = app.current_event
    form = read_form(event.headers.get("Content-Type"), event.body, event.is_base64_encoded)
    errors = _field_errors(form.fields)
    if form.avatar is None:
        errors.append(FieldError(f"body.{FILE_FIELD}", "is required: send the image as a file part"))
    elif not form.avatar:
        errors.append(FieldError(f"body.{FILE_FIELD}", "must not be empty"))
    if errors:
        raise DomainError(INVALID_REQUEST, tuple(errors))
    assert form.avatar is not None
    image = rules.sniff_image(form.avatar)
    if image is None:
        raise UnsupportedMediaType(
            f"The avatar must be {IMAGE_FORMATS}.", (FieldError(f"body.{FILE_FIELD}", f"must be {IMAGE_FORMATS}"),)
        )
    new = NewUser.model_validate(form.fields)
    user = store.create(new, form.avatar, image, creator=caller.sub, now=datetime.now(UTC))
    logger.info("user created", user_id=user.id, content_type=image.content_type, size=len(form.avatar))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=user.model_dump(mode="json"),
        headers={"Location": f"{_base_path()}/users/{user.id}"},
    )


@app.get("/users/<id>", security=PROTECTED, tags=["users"], summary="Get a user")
def get_user(id: Annotated[UUID, Path(description="The user's id")]) -> User:
    current_caller(app)
    user = store.get(str(id))
    if user is None:
        raise NotFound(f"user {id} not found")
    return user


@app.delete(
    "/users/<id>",
    security=PROTECTED,
    status_code=204,
    tags=["users"],
    summary="Delete a user and its avatar (its creator or an admin)",
    responses={204: {"description": "Deleted"}, 403: _error("Neither the user's creator nor an admin")},
)
def delete_user(id: Annotated[UUID, Path(description="The user's id")]) -> Response[None]:
    caller = current_caller(app)
    stored = store.get_stored(str(id))
    if stored is None:
        raise NotFound(f"user {id} not found")
    if stored.created_by != caller.sub and not caller.in_group(USER_POOL.admin_group):
        raise Forbidden("Only the user's creator or an admin may delete it.")
    store.delete(stored)
    logger.info("user deleted", user_id=stored.id, by=caller.sub)
    return Response(status_code=204, body=None)


def _field_errors(fields: dict[str, str]) -> list[FieldError]:
    try:
        NewUser.model_validate(fields)
    except ValidationError as error:
        return [_field_error(detail) for detail in error.errors(include_input=False)]
    return []


def _field_error(detail: Any) -> FieldError:
    field = ".".join(["body", *(str(part) for part in detail["loc"])])
    if field == "body.email" and detail["type"] != "missing":
        # email-validator's sentences may quote parts of the address: say what is wanted instead.
        return FieldError(field, "must be a valid email address, such as name@example.com")
    return FieldError(field, str(detail["msg"]).removeprefix("Value error, "))


def _base_path() -> str:
    """The path the API is served under (the stage, when deployed): what a Location or Link must start with."""
    event = app.current_event
    return event.request_context.path.removesuffix(event.path)
