"""Schemathesis over the OpenAPI document, against the stack under test, with every check it has.

The document is the one `GET /openapi.json` serves, built from every function's routes, so routes added later are
fuzzed with no list here. Signed in as a fresh user, through Schemathesis' auth provider: it leaves the token out
where a case is meant to go without one, and its `ignored_auth` check proves protected routes refuse them. A fixed
seed makes a run repeatable; FUZZ_EXAMPLES (examples per operation: 25 in `make test`, under a minute) sets the
budget, and `make fuzz` raises it.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES
from schemathesis.transport.serialization import Binary

from integration_tests.auth_fixtures import SignedInUser
from integration_tests.conftest import Api
from lambdas.platform.openapi import document_for
from testkit import images

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))

# A schema-valid request may still be refused by a rule no schema can state: a 422 that the operation documents
# (a time still to come, an end before its start, an Idempotency-Key reused for another body). Schemathesis takes
# 409 as such an answer by default; 422 is ours.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"]}
        }
    }
)
schema = schemathesis.openapi.from_dict(document_for("/"), config=CONFIG)
# Schemathesis applies auth while it collects the tests, before the stack runs: the provider marks where the token
# goes, and the test puts the signed-in user's there.
TOKEN_GOES_HERE = "Bearer <the user's ID token>"


@schema.auth()
class CognitoIdToken:
    def get(self, case: schemathesis.Case, context: Any) -> str:
        return TOKEN_GOES_HERE

    def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


@schema.parametrize()
@seed(20261130)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_openapi_document_says(case: schemathesis.Case, api: Api, user: SignedInUser) -> None:
    if case.headers and case.headers.get("Authorization") == TOKEN_GOES_HERE:
        case.headers["Authorization"] = user.headers["Authorization"]
    if _is_positive(case):
        if case.query and "cursor" in case.query:
            _use_a_cursor_the_list_returned(case, api, user)
        # Only a body that changes is replaced: Schemathesis validates a replaced body again, by its own reading of
        # multipart parts, which differs from the one it generated them by.
        if isinstance(case.body, dict) and (body := _with_an_image(case.body)) is not case.body:
            case.body = body
    case.call_and_validate(base_url=api.base_url, checks=ALL_CHECKS)


def _is_positive(case: schemathesis.Case) -> bool:
    """Generated to fit the document in every part (a coverage case can be positive overall with a negative body)."""
    components = case.meta.components.values() if case.meta else ()
    return (
        case.meta is not None
        and case.meta.generation.mode.is_positive
        and not any(component.mode.is_negative for component in components)
    )


def _with_an_image(body: dict[str, Any]) -> dict[str, Any]:
    """A positive body where JSON Schema is silent: an avatar is an image (its type is read from its bytes, which no
    schema describes). The same body when it has no avatar."""
    avatar = body.get("avatar")
    if isinstance(avatar, Binary):  # its bytes, swapped in place: the part itself is what was generated
        avatar.data = images.png()
    if isinstance(avatar, bytes):
        return body | {"avatar": images.png()}
    return body


def _use_a_cursor_the_list_returned(case: schemathesis.Case, api: Api, user: SignedInUser) -> None:
    """A cursor is valid only as a previous page returned it (the document says so): a schema-valid string made up
    by the generator is rightly a 400. Positive cases therefore carry a real one, from the first page of the same
    list, or none when that list has a single page."""
    first_page = {name: value for name, value in case.query.items() if name != "cursor"} | {"limit": 1}
    response = api.get(case.formatted_path, params=first_page, headers=user.headers)
    if response.status_code in (400, 422):  # a rule refuses the query itself (`to` before `from`), cursor or not
        del case.query["cursor"]
        return
    assert response.status_code == 200, response.text
    body: Any = response.json()
    next_link = response.links.get("next", {}).get("url")
    if isinstance(body, dict) and body.get("nextCursor"):
        case.query["cursor"] = body["nextCursor"]
    elif next_link:
        case.query["cursor"] = parse_qs(urlsplit(next_link).query)["cursor"][0]
    else:
        del case.query["cursor"]
