"""The walkthrough `make run` prints and README.md shows: shell steps a newcomer pastes as they are.

STEPS is the one list: a service adds its steps here (a comment and the commands, `{api}` for the API's URL), and
both the printout and the README follow (a test checks the README's copy). Each step captures the ids later steps
use in shell variables, and the whole walkthrough runs as a script (tests run it against the stack), so pasting it
twice, or after a restart, works too: the website is made unique per paste, and a second sign-up of the same email
answers 409 while the login still succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

# Each body printed on its own line; `field NAME` prints one field of the JSON on stdin.
CURL = "curl -sw '\\n'"
PRELUDE = """field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }"""


@dataclass(frozen=True)
class Step:
    comment: str
    commands: str


STEPS: tuple[Step, ...] = (
    Step("Is it up?", "{curl} {api}/health"),
    Step(
        "Sign up (a second time: 409, already registered), then log in and keep the ID token",
        """{curl} -X POST {api}/auth/signup -H 'Content-Type: application/json' \\
     -d '{{"email": "ada@example.com", "password": "Correct-Horse-42", "name": "Ada"}}'
TOKEN=$({curl} -X POST {api}/auth/login -H 'Content-Type: application/json' \\
     -d '{{"email": "ada@example.com", "password": "Correct-Horse-42"}}' | field idToken)""",
    ),
    Step(
        "Create a tenant (its website must be unique) and keep its id",
        """SITE=acme-$RANDOM$(date +%s).example
TENANT=$({curl} -X POST {api}/tenants -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
     -d '{{"name": "Acme", "website": "https://'$SITE'/about", "contactEmail": "ops@acme.example"}}' | field id)
{curl} {api}/tenants/$TENANT -H "Authorization: Bearer $TOKEN\"""",
    ),
    Step(
        "A mistake is a 400 that names the field",
        """{curl} -X POST {api}/tenants -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
     -d '{{"name": "Acme", "website": "acme..example", "contactEmail": "ops@acme.example"}}'""",
    ),
    Step(
        "File an SLA error and list the file's errors",
        """{curl} -X POST {api}/sla-errors -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
     -d '{{"fileName": "payments-2026-11-21.csv", "expectedAt": "2026-11-21T06:00:00Z", "severity": "high"}}'
{curl} "{api}/sla-errors?fileName=payments-2026-11-21.csv&limit=10" -H "Authorization: Bearer $TOKEN\"""",
    ),
)


def render(api: str, steps: tuple[Step, ...] = STEPS) -> str:
    """The steps as one shell script for the API at `api`: comments, then commands, one block per step."""
    blocks = [f"API={api}\n{PRELUDE}"]
    for step in steps:
        commands = step.commands.format(api="$API", curl=CURL)
        blocks.append(f"# {step.comment}\n{commands}")
    return "\n\n".join(blocks)
