"""What API Gateway itself answers, before or instead of a function."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayResponse:
    """An API Gateway Gateway Response: what API Gateway itself answers, before or instead of a function."""

    response_type: str
    status: int
    message: str


# The same JSON shape as the functions' errors. The deployed API sets these as Gateway Responses; the embedded
# stack answers with them. A wrong method on a known path answers 405 from a MOCK integration (`ANY`).
NOT_FOUND = GatewayResponse("MISSING_AUTHENTICATION_TOKEN", 404, "Not Found")
UNAUTHORIZED = GatewayResponse("UNAUTHORIZED", 401, "Unauthorized")
ACCESS_DENIED = GatewayResponse("ACCESS_DENIED", 403, "Forbidden")
DEFAULT_4XX = GatewayResponse("DEFAULT_4XX", 400, "Bad Request")
DEFAULT_5XX = GatewayResponse("DEFAULT_5XX", 500, "Internal server error")
# Answered by the gateway itself with AWS's own status codes (issue 12 finishes this table and its Pulumi side).
THROTTLED = GatewayResponse("THROTTLED", 429, "Too Many Requests")
REQUEST_TOO_LARGE = GatewayResponse("REQUEST_TOO_LARGE", 413, "Request Too Large")
UNSUPPORTED_MEDIA_TYPE = GatewayResponse("UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type")
INTEGRATION_TIMEOUT = GatewayResponse("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out")
AUTHORIZER_FAILURE = GatewayResponse("AUTHORIZER_FAILURE", 500, "Internal server error")
GATEWAY_RESPONSES = (NOT_FOUND, UNAUTHORIZED, ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX)
METHOD_NOT_ALLOWED_STATUS = 405
# Request bodies of these types reach a function base64-encoded (`isBase64Encoded`), as uploads must.
BINARY_MEDIA_TYPES = ("image/*", "multipart/form-data", "application/octet-stream")
METHOD_NOT_ALLOWED_MESSAGE = "Method Not Allowed"
# The REST API's `minimumCompressionSize` (bytes): a larger answer is gzipped or deflated when the client accepts it.
MINIMUM_COMPRESSION_SIZE = 1024
