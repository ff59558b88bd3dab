"""What API Gateway itself answers, before or instead of a function: the one table the deployed API (infra/api.py)
and the embedded gateway (embedded_stack/apigateway/gateway.py) both read."""

from __future__ import annotations

from dataclasses import dataclass

# AWS's default status code of each Gateway Response type, from the "Gateway response types for API Gateway" table
# (API Gateway Developer Guide, supported-gateway-response-types.html). DEFAULT_4XX and DEFAULT_5XX have none
# ("Null"): they answer with the status of the error they stand in for. Setting one on them changes the status of
# EVERY other 4xx/5xx (stage throttling would answer 400, an integration timeout 500): the table's own warning.
AWS_DEFAULT_STATUS: dict[str, int | None] = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}
# What DEFAULT_4XX/DEFAULT_5XX answer in the embedded gateway when it has no more specific status: a fault of the
# stand-in itself is a 500. (The deployed API never sets these: AWS keeps each error's own status.)
_FAMILY_STATUS = {"DEFAULT_4XX": 400, "DEFAULT_5XX": 500}
# `$context.error.messageString` is `$context.error.message` quoted for JSON: the defaults stand in for many errors
# (a bad body, a missing token, a malformed Lambda answer), so their body says which one.
AWS_MESSAGE = "$context.error.messageString"


@dataclass(frozen=True)
class GatewayResponse:
    """An API Gateway Gateway Response. `status_code` is what the deployed response sets; None keeps AWS's own
    (the `statusCode` argument left unset). `status` is what a client receives, in both stacks."""

    response_type: str
    message: str
    status_code: int | None = None

    def __post_init__(self) -> None:
        if self.response_type not in AWS_DEFAULT_STATUS:
            raise ValueError(f"{self.response_type!r} is not an API Gateway gateway response type")
        if self.status_code is not None and AWS_DEFAULT_STATUS[self.response_type] is None:
            raise ValueError(f"{self.response_type} must keep AWS's status: setting one overrides every other error's")

    @property
    def status(self) -> int:
        default = AWS_DEFAULT_STATUS[self.response_type]
        return self.status_code or default or _FAMILY_STATUS[self.response_type]

    @property
    def keeps_aws_message(self) -> bool:
        """True for the defaults: their deployed body carries AWS's message of the error they stand in for."""
        return AWS_DEFAULT_STATUS[self.response_type] is None


# The same JSON shape as the functions' errors. The deployed API sets these as Gateway Responses; the embedded
# stack answers with them. A wrong method on a known path answers 405 from a MOCK integration (`ANY`).
# An unknown path is MISSING_AUTHENTICATION_TOKEN (AWS's 403 "Missing Authentication Token"): answered as a 404.
NOT_FOUND = GatewayResponse("MISSING_AUTHENTICATION_TOKEN", "Not Found", status_code=404)
UNAUTHORIZED = GatewayResponse("UNAUTHORIZED", "Unauthorized")
ACCESS_DENIED = GatewayResponse("ACCESS_DENIED", "Forbidden")
DEFAULT_4XX = GatewayResponse("DEFAULT_4XX", "Bad Request")
DEFAULT_5XX = GatewayResponse("DEFAULT_5XX", "Internal server error")
THROTTLED = GatewayResponse("THROTTLED", "Too Many Requests")
REQUEST_TOO_LARGE = GatewayResponse("REQUEST_TOO_LARGE", "Request Too Large")
UNSUPPORTED_MEDIA_TYPE = GatewayResponse("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
INTEGRATION_TIMEOUT = GatewayResponse("INTEGRATION_TIMEOUT", "Endpoint request timed out")
INTEGRATION_FAILURE = GatewayResponse("INTEGRATION_FAILURE", "Endpoint request failed")
AUTHORIZER_FAILURE = GatewayResponse("AUTHORIZER_FAILURE", "Internal server error")
AUTHORIZER_CONFIGURATION_ERROR = GatewayResponse("AUTHORIZER_CONFIGURATION_ERROR", "Internal server error")
GATEWAY_RESPONSES = (
    NOT_FOUND,
    UNAUTHORIZED,
    ACCESS_DENIED,
    DEFAULT_4XX,
    DEFAULT_5XX,
    THROTTLED,
    REQUEST_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    INTEGRATION_TIMEOUT,
    INTEGRATION_FAILURE,
    AUTHORIZER_FAILURE,
    AUTHORIZER_CONFIGURATION_ERROR,
)
# A function that fails or returns a malformed proxy response: no gateway response type of its own, so DEFAULT_5XX
# with AWS's 502 and AWS's message.
LAMBDA_FAILURE_STATUS = 502
METHOD_NOT_ALLOWED_STATUS = 405
# The request content types the 405 answers: whatever a client sends with a wrong method, the MOCK maps it to the
# same static template (the body is never read). API Gateway picks a request template by the exact Content-Type,
# and treats a request without one as application/json. Any other type gets UNSUPPORTED_MEDIA_TYPE (415) from the
# deployed API (passthrough NEVER): never the 500 a MOCK gives when an unmapped body is passed through to it.
METHOD_NOT_ALLOWED_CONTENT_TYPES = (
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "application/xml",
    "text/xml",
    "application/octet-stream",
)
# Request bodies of these types reach a function base64-encoded (`isBase64Encoded`), as uploads must.
BINARY_MEDIA_TYPES = ("image/*", "multipart/form-data", "application/octet-stream")
METHOD_NOT_ALLOWED_MESSAGE = "Method Not Allowed"
# The REST API's `minimumCompressionSize` (bytes): a larger answer is gzipped or deflated when the client accepts it.
MINIMUM_COMPRESSION_SIZE = 1024
