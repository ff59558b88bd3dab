"""What the API functions trace and count. Traces: the libraries Powertools' Tracer patches (each call through them
a subsegment). Metrics: the business metrics the functions record (CloudWatch's embedded metric format, through
Powertools' Metrics) and the dashboard shows, in one namespace, with the stage and the recording function
(Powertools' `service`) as dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lambdas.catalog.functions import IDENTITY, POINTS, SLA_ERRORS, TENANTS, USERS
from lambdas.catalog.model import Function

# botocore only: every DynamoDB, S3 and Cognito call. The zips ship the X-Ray SDK's patch for it (infra/package.py),
# not botocore itself, which the Lambda runtime has.
TRACED_LIBRARIES = ("botocore",)

METRICS_NAMESPACE = "ServerlessPlatform"
# The function's environment names its stage; a metric's dimensions are this one and Powertools' `service`.
STAGE_ENV_VAR = "STAGE_NAME"
STAGE_DIMENSION = "stage"
SERVICE_DIMENSION = "service"


@dataclass(frozen=True)
class BusinessMetric:
    name: str
    unit: Literal["Count", "Bytes"]
    function: Function
    description: str


SIGN_UPS = BusinessMetric("SignUps", "Count", IDENTITY, "Accounts signed up")
LOGINS_FAILED = BusinessMetric("LoginsFailed", "Count", IDENTITY, "Logins refused (wrong password, unconfirmed)")
TENANTS_CREATED = BusinessMetric("TenantsCreated", "Count", TENANTS, "Tenants created")
USERS_CREATED = BusinessMetric("UsersCreated", "Count", USERS, "Users created")
AVATAR_BYTES_STORED = BusinessMetric("AvatarBytesStored", "Bytes", USERS, "Bytes of avatar images stored")
POINTS_ADDED = BusinessMetric("PointsAdded", "Count", POINTS, "Points recorded by transactions (net)")
POINTS_SPENT = BusinessMetric("PointsSpent", "Count", POINTS, "Points spent")
SPENDS_REFUSED = BusinessMetric("SpendsRefused", "Count", POINTS, "Spends refused for want of points")
SLA_ERRORS_FILED = BusinessMetric("SlaErrorsFiled", "Count", SLA_ERRORS, "SLA errors filed")

BUSINESS_METRICS: tuple[BusinessMetric, ...] = (
    SIGN_UPS,
    LOGINS_FAILED,
    TENANTS_CREATED,
    USERS_CREATED,
    AVATAR_BYTES_STORED,
    POINTS_ADDED,
    POINTS_SPENT,
    SPENDS_REFUSED,
    SLA_ERRORS_FILED,
)
