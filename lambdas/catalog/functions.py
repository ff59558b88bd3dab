"""The platform's Lambda functions, each with every AWS action it may take."""

from __future__ import annotations

from collections.abc import Callable

from lambdas.catalog.model import BucketAccess, Function, TableAccess
from lambdas.catalog.resources import (
    AVATARS_BUCKET,
    AVATARS_PENDING_PREFIX,
    AVATARS_PREFIX,
    POINTS_IDEMPOTENCY_TABLE,
    POINTS_TABLE,
    SLA_ERRORS_TABLE,
    TENANTS_TABLE,
    USERS_TABLE,
)

# lambdas.shared.email_address imports email-validator at the first address it checks, off the cold start.
EMAIL_CHECK = ("email_validator",)

TENANTS = Function(
    name="tenants",
    description="Tenant accounts: create, read and list.",
    # A create is one TransactWriteItems of two conditional puts; IAM authorises each put as PutItem. Lists Query
    # the table's indexes.
    tables=(TableAccess(TENANTS_TABLE, ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")),),
    lazy_imports=EMAIL_CHECK,
    owner_deletion="lambdas.tenants.store.delete_everything_owned_by",
)

IDENTITY = Function(
    name="identity",
    description="Sign-up, logins, tokens and password resets; the caller's account: password, profile, two-factor.",
    # SignUp, ConfirmSignUp, InitiateAuth, RespondToAuthChallenge, ForgotPassword, ConfirmForgotPassword,
    # ResendConfirmationCode and RevokeToken are Cognito's public client APIs (authorised by the app client id), and
    # GetUser, GlobalSignOut, AssociateSoftwareToken, VerifySoftwareToken and SetUserMFAPreference by the user's
    # access token: no IAM action changes what they may do. The Admin* actions, on the caller's own user only:
    user_pool_actions=(
        # POST /auth/reset-password: a reset signs every session out (ConfirmForgotPassword alone revokes nothing).
        "cognito-idp:AdminUserGlobalSignOut",
        # POST /auth/password: a protected route has no access token for ChangePassword; the current password is
        # checked with a login first.
        "cognito-idp:AdminSetUserPassword",
        # GET /me, and PATCH /me's answer.
        "cognito-idp:AdminGetUser",
        # PATCH /me.
        "cognito-idp:AdminUpdateUserAttributes",
    ),
    lazy_imports=EMAIL_CHECK,
)

SLA_ERRORS = Function(
    name="sla_errors",
    description="File SLA breaches: record, list and read.",
    # Query on the table's indexes: the grant must cover the table's `index/*` ARNs too.
    tables=(TableAccess(SLA_ERRORS_TABLE, ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query")),),
    owner_deletion="lambdas.sla_errors.store.delete_everything_owned_by",
)

PRESIGNUP = Function(
    name="presignup",
    description="The user pool's pre sign-up trigger: confirms users and verifies their email on sign-up.",
    serves_api=False,
)

# The user pool's Lambda triggers, by the pool's LambdaConfig name. Cognito invokes them: each needs a
# lambda:InvokeFunction permission for the principal cognito-idp.amazonaws.com, scoped to the pool's ARN.
USER_POOL_TRIGGERS: dict[str, Function] = {"PreSignUp": PRESIGNUP}

PLATFORM = Function(
    name="platform",
    description="The API's own routes: health check, the OpenAPI document and Swagger UI.",
    lazy_imports=("aws_lambda_powertools.event_handler.openapi.swagger_ui",),
    documents_api=True,
)

USERS = Function(
    name="users",
    description="The users directory: people with a name, an email and an avatar image.",
    # A create is one TransactWriteItems of two conditional puts (PutItem each); a delete, one of two deletes.
    tables=(
        TableAccess(
            USERS_TABLE,
            ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"),
        ),
    ),
    # Objects only, under the two prefixes: no ListBucket. Presigned GETs are signed with this role, so GetObject
    # is what lets a URL's holder read an avatar. CopyObject is authorised as GetObject on the source and
    # PutObject on the target. HeadObject (is a promoted image under avatars/ before pendingKey is cleared?) is
    # authorised as GetObject: nothing to add. Without ListBucket a missing key answers 403, not 404; the store
    # reads both as missing (lambdas/users/store.py).
    buckets=(
        BucketAccess(
            AVATARS_BUCKET,
            ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
            key_prefixes=(AVATARS_PREFIX, AVATARS_PENDING_PREFIX),
        ),
    ),
    lazy_imports=EMAIL_CHECK,
    owner_deletion="lambdas.users.store.delete_everything_owned_by",
)

POINTS = Function(
    name="points",
    description="Loyalty points ledger: transactions, balances per payer, spending oldest points first.",
    tables=(
        # TransactWriteItems is authorised per item as PutItem, UpdateItem, DeleteItem or ConditionCheckItem;
        # BatchWriteItem prepares a large spend's steps and empties a ledger. No index, no Scan.
        TableAccess(
            POINTS_TABLE,
            (
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ),
        ),
        # What Powertools' DynamoDBPersistenceLayer calls.
        TableAccess(
            POINTS_IDEMPOTENCY_TABLE,
            ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        ),
    ),
    # lambdas.points.idempotency imports Powertools' idempotency utility (and with it boto3) for keyed requests only.
    lazy_imports=("aws_lambda_powertools.utilities.idempotency",),
    owner_deletion="lambdas.points.store.delete_everything_owned_by",
)

OWNING: tuple[Function, ...] = (POINTS, TENANTS, USERS, SLA_ERRORS)

ACCOUNTS = Function(
    name="accounts",
    description="DELETE /me: the caller's account and everything it owns, in every service.",
    # What each service's owner_deletion calls (see each store), and no read or write of anything else.
    tables=(
        # Points: the ledger's keys by Query, deleted by BatchWriteItem (lambdas/points/store.delete_ledger).
        TableAccess(POINTS_TABLE, ("dynamodb:BatchWriteItem", "dynamodb:Query")),
        # Idempotency records are found by their key's prefix only: a Scan (the table holds a day of records).
        TableAccess(POINTS_IDEMPOTENCY_TABLE, ("dynamodb:DeleteItem", "dynamodb:Scan")),
        # Tenants by the byOwner index; a tenant and its website reservation in one transaction (DeleteItem each).
        TableAccess(TENANTS_TABLE, ("dynamodb:DeleteItem", "dynamodb:Query")),
        # Directory users by the byCreatedAt index; a user and its email reservation in one transaction.
        TableAccess(USERS_TABLE, ("dynamodb:DeleteItem", "dynamodb:Query")),
        # SLA errors by the byExpectedAt index, filtered on reportedBy.
        TableAccess(SLA_ERRORS_TABLE, ("dynamodb:DeleteItem", "dynamodb:Query")),
    ),
    buckets=(
        # Every version of a deleted user's avatar: ListBucketVersions on the bucket (with the avatar's key as
        # prefix), DeleteObject and DeleteObjectVersion under the two prefixes.
        BucketAccess(
            AVATARS_BUCKET,
            ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"),
            key_prefixes=(AVATARS_PREFIX, AVATARS_PENDING_PREFIX),
        ),
    ),
    # Disabled first (the marker that a deletion is under way: the account can no longer log in), deleted last.
    user_pool_actions=("cognito-idp:AdminDeleteUser", "cognito-idp:AdminDisableUser"),
    lazy_imports=tuple(function.owner_deletion.rpartition(".")[0] for function in OWNING if function.owner_deletion),
)

FUNCTIONS: tuple[Function, ...] = (TENANTS, IDENTITY, SLA_ERRORS, PRESIGNUP, PLATFORM, USERS, POINTS, ACCOUNTS)


def owner_deletions() -> list[Callable[[str], None]]:
    """What deletes an account's data in each service that holds some, imported now (DELETE /me)."""
    return [function.deletion() for function in FUNCTIONS if function.owner_deletion]
