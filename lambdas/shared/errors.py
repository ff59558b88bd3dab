"""Errors that domain code raises. They carry no AWS or HTTP types; `lambdas.shared.api` maps them to HTTP.

`message` is a sentence for a person; each `FieldError` names a location-qualified field (``body.website``,
``query.limit``, ``path.tenantId``, ``header.Content-Type``) and completes a sentence whose subject is that field
("must be a UUID"). Neither ever quotes what the caller sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

INVALID_REQUEST = "The request is invalid: see errors for each field at fault."
CONFLICT = "The request conflicts with what already exists: see errors."
UNPROCESSABLE = "The request is well formed, but a rule refuses it: see errors."


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status: HTTPStatus = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides its body."""
        return {}


class InvalidInput(DomainError):
    status = HTTPStatus.BAD_REQUEST

    def __init__(self, field: str, message: str) -> None:
        super().__init__(INVALID_REQUEST, (FieldError(field, message),))


class Unauthorized(DomainError):
    status = HTTPStatus.UNAUTHORIZED


class Forbidden(DomainError):
    status = HTTPStatus.FORBIDDEN


class NotFound(DomainError):
    status = HTTPStatus.NOT_FOUND


class Conflict(DomainError):
    """409: `field` and `field_message` say which field collides with what exists; `message` is the sentence."""

    status = HTTPStatus.CONFLICT

    def __init__(self, field: str, field_message: str, message: str = CONFLICT) -> None:
        super().__init__(message, (FieldError(field, field_message),))


class Unprocessable(DomainError):
    """422: a request its schema admits, refused by a rule no schema can state (a time that is still to come, an
    end before its start); `field` and `field_message` say which field and why."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, field: str, field_message: str) -> None:
        super().__init__(UNPROCESSABLE, (FieldError(field, field_message),))


class TooManyRequests(DomainError):
    """429; with `retry_after`, the seconds the caller should wait (the Retry-After header)."""

    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class PayloadTooLarge(DomainError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedMediaType(DomainError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
