"""The Cognito authorizer with real RS256 tokens, verified against a JWKS served over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import PyJWKClientConnectionError
from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

from embedded_stack.apigateway.authorizer import AuthorizationError, CognitoAuthorizer, java_date, render_claims
from embedded_stack.provision import Provisioned
from lambdas.shared.aws import client

REGION = "eu-west-1"
POOL_ID = f"{REGION}_Example1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
CLIENT_ID = "5tsd2ifg7k4bqcb2dvrqe7bk9d"


@dataclass
class JwksServer:
    """Serves `documents[path]` as JSON and counts the requests per path."""

    documents: dict[str, Any] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    base_url: str = ""

    def url(self, path: str = "/jwks.json") -> str:
        return f"{self.base_url}{path}"


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    served = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests[self.path] += 1
            document = served.documents.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"{}"
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield served
    server.shutdown()
    server.server_close()


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, **header})


@pytest.fixture(scope="module")
def pool_key() -> SigningKey:
    return SigningKey(kid="pool-key-1")


@pytest.fixture
def jwks(jwks_server: JwksServer, pool_key: SigningKey) -> JwksServer:
    jwks_server.documents["/jwks.json"] = {"keys": [pool_key.jwk]}
    return jwks_server


def authorizer(jwks: JwksServer, **options: Any) -> CognitoAuthorizer:
    return CognitoAuthorizer(jwks_url=jwks.url(), issuer=ISSUER, audience=CLIENT_ID, **options)


IN_TEN_MINUTES = object()


def id_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "0f3c2a56-7e8b-4c1d-9a2b-3c4d5e6f7a8b",
        "email_verified": True,
        "iss": ISSUER,
        "cognito:username": "0f3c2a56-7e8b-4c1d-9a2b-3c4d5e6f7a8b",
        "origin_jti": str(uuid.uuid4()),
        "aud": CLIENT_ID,
        "event_id": str(uuid.uuid4()),
        "token_use": "id",
        "auth_time": now,
        "name": "Ada Lovelace",
        "exp": now + 3600,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "email": "ada@example.com",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---------------------------------------------------------------------------------------------- accepted


def test_a_valid_id_token_gives_its_claims_as_api_gateway_renders_them(jwks: JwksServer, pool_key: SigningKey) -> None:
    claims = id_claims(**{"cognito:groups": ["admins", "ops"]})

    rendered = authorizer(jwks).claims(f"Bearer {pool_key.sign(claims)}")

    assert rendered == {
        **{name: str(value) for name, value in claims.items()},
        "cognito:groups": "admins,ops",
        "email_verified": "true",
        "exp": java_date(claims["exp"]),
        "iat": java_date(claims["iat"]),
    }


@pytest.mark.parametrize("form", ["Bearer {}", "bearer {}", "{}", "  Bearer   {}  "])
def test_bearer_or_bare_token(jwks: JwksServer, pool_key: SigningKey, form: str) -> None:
    token = pool_key.sign(id_claims())

    assert authorizer(jwks).claims(form.format(token))["sub"]


def test_keys_are_cached(jwks: JwksServer, pool_key: SigningKey) -> None:
    verifier = authorizer(jwks)

    for _ in range(5):
        verifier.claims(pool_key.sign(id_claims()))

    assert jwks.requests["/jwks.json"] == 1


def test_a_rotated_key_is_fetched_once(jwks: JwksServer, pool_key: SigningKey) -> None:
    verifier = authorizer(jwks, refetch_cooldown_seconds=0)
    verifier.claims(pool_key.sign(id_claims()))
    new_key = SigningKey(kid="pool-key-2")
    jwks.documents["/jwks.json"] = {"keys": [pool_key.jwk, new_key.jwk]}

    assert verifier.claims(new_key.sign(id_claims()))["sub"]
    assert verifier.claims(new_key.sign(id_claims()))["sub"]
    assert jwks.requests["/jwks.json"] == 2


# ---------------------------------------------------------------------------------------------- refused


def assert_refused(verifier: CognitoAuthorizer, header: str | None) -> AuthorizationError:
    with pytest.raises(AuthorizationError) as raised:
        verifier.claims(header)
    return raised.value


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "abc", "a.b.c"])
def test_no_token_or_not_a_jwt(jwks: JwksServer, header: str | None) -> None:
    assert_refused(authorizer(jwks), header)
    assert jwks.requests["/jwks.json"] == 0


def test_expired(jwks: JwksServer, pool_key: SigningKey) -> None:
    token = pool_key.sign(id_claims(exp=int(time.time()) - 1, iat=int(time.time()) - 3601))

    assert assert_refused(authorizer(jwks), token).expired is True


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-app-client"},
        {"aud": [CLIENT_ID, "another-app-client"]},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Another"},
        {"iss": "https://evil.example/" + POOL_ID},
        {"token_use": "access"},
        {"token_use": None},
        {"sub": None},
        {"exp": None},
        {"iat": IN_TEN_MINUTES},  # issued in the future
        {"nbf": IN_TEN_MINUTES},
    ],
    ids=[
        "wrong-audience",
        "several-audiences",
        "another-pool",
        "another-issuer",
        "access-token",
        "no-token-use",
        "no-sub",
        "no-exp",
        "future-iat",
        "not-yet-valid",
    ],
)
def test_claims_other_than_an_id_token_of_this_pool_and_client(
    jwks: JwksServer, pool_key: SigningKey, claims: dict[str, Any]
) -> None:
    # Times are taken now, not at collection: a slow run would otherwise reach this test after they have passed.
    claims = {name: int(time.time()) + 600 if value is IN_TEN_MINUTES else value for name, value in claims.items()}
    error = assert_refused(authorizer(jwks), pool_key.sign(id_claims(**claims)))

    assert error.expired is False


def test_an_access_token_as_cognito_issues_it(jwks: JwksServer, pool_key: SigningKey) -> None:
    access = id_claims(token_use="access", aud=None, client_id=CLIENT_ID, scope="aws.cognito.signin.user.admin")

    # Refused on its audience (access tokens carry client_id, not aud) before token_use is even read.
    assert_refused(authorizer(jwks), pool_key.sign(access))


def test_a_tampered_payload(jwks: JwksServer, pool_key: SigningKey) -> None:
    header, _, signature = pool_key.sign(id_claims()).split(".")
    forged = b64(json.dumps(id_claims(sub="someone-else")).encode())

    assert_refused(authorizer(jwks), f"{header}.{forged}.{signature}")


def test_a_tampered_signature(jwks: JwksServer, pool_key: SigningKey) -> None:
    header, payload, signature = pool_key.sign(id_claims()).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 0x01

    assert_refused(authorizer(jwks), f"{header}.{payload}.{b64(bytes(raw))}")


def test_signed_by_another_key_under_the_pools_key_id(jwks: JwksServer, pool_key: SigningKey) -> None:
    impostor = SigningKey(kid=pool_key.kid)

    assert_refused(authorizer(jwks), impostor.sign(id_claims()))


def test_an_unknown_key_id_fetches_the_jwks_exactly_once_more(jwks: JwksServer, pool_key: SigningKey) -> None:
    verifier = authorizer(jwks, refetch_cooldown_seconds=0)
    verifier.claims(pool_key.sign(id_claims()))
    assert jwks.requests["/jwks.json"] == 1

    assert_refused(verifier, SigningKey(kid="unknown").sign(id_claims()))

    assert jwks.requests["/jwks.json"] == 2


def test_unknown_key_ids_do_not_flood_the_jwks_endpoint(jwks: JwksServer, pool_key: SigningKey) -> None:
    verifier = authorizer(jwks)  # the default cooldown between refetches
    verifier.claims(pool_key.sign(id_claims()))

    for number in range(10):
        assert_refused(verifier, SigningKey(kid=f"made-up-{number}").sign(id_claims()))

    assert jwks.requests["/jwks.json"] == 1
    assert verifier.claims(pool_key.sign(id_claims()))["sub"]  # known keys still verify


def test_keys_come_from_the_configured_url_never_from_the_token(jwks: JwksServer, pool_key: SigningKey) -> None:
    attacker = SigningKey(kid="attacker")
    jwks.documents["/attacker.json"] = {"keys": [attacker.jwk]}
    token = attacker.sign(id_claims(), jku=jwks.url("/attacker.json"), x5u=jwks.url("/attacker.json"))

    assert_refused(authorizer(jwks, refetch_cooldown_seconds=0), token)

    assert jwks.requests["/attacker.json"] == 0


def test_alg_none(jwks: JwksServer, pool_key: SigningKey) -> None:
    header = b64(json.dumps({"alg": "none", "kid": pool_key.kid, "typ": "JWT"}).encode())
    payload = b64(json.dumps(id_claims()).encode())

    assert "algorithm" in str(assert_refused(authorizer(jwks), f"{header}.{payload}."))
    assert_refused(authorizer(jwks), f"{header}.{payload}")
    assert jwks.requests["/jwks.json"] == 0


def test_hs256_signed_with_the_public_key(jwks: JwksServer, pool_key: SigningKey) -> None:
    # The classic confusion: the pool's public key, which anyone can fetch, used as an HMAC secret.
    secret = pool_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "kid": pool_key.kid, "typ": "JWT"}).encode())
    payload = b64(json.dumps(id_claims()).encode())
    signature = b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())

    assert "algorithm" in str(assert_refused(authorizer(jwks), f"{header}.{payload}.{signature}"))


@pytest.mark.parametrize("header", [{"alg": "RS512"}, {"alg": "RS256", "kid": ""}, {"alg": "RS256", "kid": 7}])
def test_other_algorithms_and_missing_key_ids(jwks: JwksServer, pool_key: SigningKey, header: dict[str, Any]) -> None:
    encoded = b64(json.dumps({"typ": "JWT", **header}).encode())
    _, payload, signature = pool_key.sign(id_claims()).split(".")

    assert_refused(authorizer(jwks), f"{encoded}.{payload}.{signature}")


def test_an_unreachable_jwks_is_a_fault_not_a_refusal(pool_key: SigningKey) -> None:
    # The token may be fine: the gateway answers 500 (API Gateway's AUTHORIZER_FAILURE), not 401.
    verifier = CognitoAuthorizer(
        jwks_url="http://127.0.0.1:9/jwks.json", issuer=ISSUER, audience=CLIENT_ID, timeout_seconds=1
    )

    with pytest.raises(PyJWKClientConnectionError):
        verifier.claims(pool_key.sign(id_claims()))


def test_the_reason_never_quotes_the_token(jwks: JwksServer, pool_key: SigningKey) -> None:
    token = pool_key.sign(id_claims(aud="another-app-client"))

    error = assert_refused(authorizer(jwks), token)

    assert token not in str(error)
    assert token.split(".")[1] not in str(error)


# ---------------------------------------------------------------------------------------------- moto's tokens


def test_moto_issued_tokens_verify_with_the_pools_issuer_and_client(aws: Provisioned, jwks_server: JwksServer) -> None:
    """What the embedded stack relies on: moto's ID tokens carry the issuer and audience AWS's do."""
    jwks_server.documents["/jwks.json"] = json.loads(CognitoIdpJsonWebKeyResponse.serve_json_web_key()[2])
    cognito = client("cognito-idp")
    cognito.admin_create_user(
        UserPoolId=aws.user_pool_id,
        Username="grace@example.com",
        UserAttributes=[{"Name": "email", "Value": "grace@example.com"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=aws.user_pool_id, Username="grace@example.com", Password="Correct-Horse-42", Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=aws.user_pool_id, Username="grace@example.com", GroupName="admins")
    tokens = cognito.initiate_auth(
        ClientId=aws.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "grace@example.com", "PASSWORD": "Correct-Horse-42"},
    )["AuthenticationResult"]
    verifier = CognitoAuthorizer(
        jwks_url=jwks_server.url(),
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{aws.user_pool_id}",
        audience=aws.user_pool_client_id,
    )

    claims = verifier.claims(f"Bearer {tokens['IdToken']}")

    assert claims["cognito:groups"] == "admins"
    assert claims["email"] == "grace@example.com"
    assert claims["token_use"] == "id"
    with pytest.raises(AuthorizationError):
        verifier.claims(f"Bearer {tokens['AccessToken']}")


# ---------------------------------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("epoch", "rendered"),
    [
        (0, "Thu Jan 01 00:00:00 UTC 1970"),
        (1544116103, "Thu Dec 06 17:08:23 UTC 2018"),
        (1717054729, "Thu May 30 07:38:49 UTC 2024"),
        (1717286400, "Sun Jun 02 00:00:00 UTC 2024"),
        (1717286400.9, "Sun Jun 02 00:00:00 UTC 2024"),
    ],
)
def test_java_date(epoch: float, rendered: str) -> None:
    assert java_date(epoch) == rendered


@pytest.mark.parametrize(
    ("claims", "rendered"),
    [
        ({"cognito:groups": ["admins"]}, {"cognito:groups": "admins"}),
        ({"cognito:groups": []}, {"cognito:groups": ""}),
        (
            {"cognito:roles": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]},
            {"cognito:roles": "arn:aws:iam::1:role/a,arn:aws:iam::1:role/b"},
        ),
        (
            {"email_verified": False, "phone_number_verified": True},
            {"email_verified": "false", "phone_number_verified": "true"},
        ),
        ({"auth_time": 1717051129, "custom:score": 7}, {"auth_time": "1717051129", "custom:score": "7"}),
        ({"address": {"formatted": "1 Main St"}}, {"address": '{"formatted":"1 Main St"}'}),
        ({"middle_name": None}, {}),
        ({"exp": "already a string"}, {"exp": "already a string"}),
    ],
)
def test_render_claims(claims: dict[str, Any], rendered: dict[str, str]) -> None:
    assert render_claims(claims) == rendered


def test_a_key_dropped_from_the_jwks_stops_verifying_when_the_cached_set_expires(
    jwks: JwksServer, pool_key: SigningKey
) -> None:
    verifier = authorizer(jwks, jwks_lifespan_seconds=0.2, refetch_cooldown_seconds=0)
    token = pool_key.sign(id_claims())
    assert verifier.claims(token)["sub"]
    jwks.documents["/jwks.json"] = {"keys": [SigningKey(kid="pool-key-2").jwk]}

    time.sleep(0.3)

    assert_refused(verifier, token)
