"""Schemathesis over the OpenAPI document, against the stack under test, with every check it has.

The document is the one the API serves (`GET /openapi.json`), so every route of every function is fuzzed,
including routes added later, with no list here. Signed in as a fresh user (the `user` fixture's ID token in
`Authorization`; `ignored_auth` drops it to prove protected routes refuse). A fixed seed makes a run repeatable;
FUZZ_EXAMPLES (examples per operation, default 25, about two minutes in all) sets the budget: `make fuzz` raises it.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import CHECKS, load_all_checks

from integration_tests.auth_fixtures import SignedInUser
from lambdas.platform.openapi import document_for

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


# The document `GET /openapi.json` serves, built from every function's routes: new routes are fuzzed unlisted.
schema = schemathesis.openapi.from_dict(document_for("/"))


@schema.parametrize()
@seed(20261130)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_openapi_document_says(
    case: schemathesis.Case, outputs: dict[str, Any], user: SignedInUser
) -> None:
    case.call_and_validate(base_url=str(outputs["apiUrl"]).rstrip("/"), headers=user.headers, checks=ALL_CHECKS)
