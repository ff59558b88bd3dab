"""The walkthrough `make run` prints and README.md shows: shell steps a newcomer pastes as they are.

`code EMAIL` prints the last code the stack emailed to EMAIL (its outbox, `.local-stack/outbox/`).
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
PRELUDE = """field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
code() { python3 -c 'import json, pathlib, sys; print([m["code"] for m in map(json.loads, map(pathlib.Path.read_text,
  sorted(pathlib.Path(sys.argv[1]).glob("*.json")))) if m["to"] == sys.argv[2]][-1])' "$OUTBOX" "$1"; }"""
# Where the embedded stack writes the emails Cognito would send (embedded_stack.moto.cognito_mail), from the repository.
OUTBOX = ".local-stack/outbox"


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
    Step(
        "Add a user with an avatar (a 1x1 PNG made here); its avatar_url serves the image without credentials",
        """python3 -c 'import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))' \\
     iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg== > face.png
AVATAR=$({curl} -X POST {api}/user -H "Authorization: Bearer $TOKEN" -F name='Test User' \\
     -F email=test-user-$RANDOM$(date +%s)@example.com -F avatar=@face.png | field avatar_url)
curl -s -o /dev/null -w '%{{http_code}} %{{content_type}}\\n' "$AVATAR"
{curl} "{api}/users?limit=2" -H "Authorization: Bearer $TOKEN\"""",
    ),
    Step(
        "Points: empty your ledger, add the worked example's transactions, spend 5000 (oldest first), see the balance",
        """{curl} -X DELETE {api}/points -H "Authorization: Bearer $TOKEN"
add() {{ {curl} -X POST {api}/points/transactions -H "Authorization: Bearer $TOKEN" \\
     -H 'Content-Type: application/json' -d "{{\\"payer\\": \\"$1\\", \\"points\\": $2, \\"timestamp\\": \\"$3\\"}}"; }}
add DANNON 300 2020-10-31T10:00:00Z
add UNILEVER 200 2020-10-31T11:00:00Z
add DANNON -200 2020-10-31T15:00:00Z
add 'MILLER COORS' 10000 2020-11-01T14:00:00Z
add DANNON 1000 2020-11-02T14:00:00Z
{curl} -X POST {api}/points/spend -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
     -H "Idempotency-Key: spend-$RANDOM$(date +%s)" -d '{{"points": 5000}}'
{curl} {api}/points/balance -H "Authorization: Bearer $TOKEN\"""",
    ),
    Step(
        "Forgot it? Ask for a code, read it from the outbox, reset (to the same password: pasting again works)",
        """{curl} -X POST {api}/auth/forgot-password -H 'Content-Type: application/json' \\
     -d '{{"email": "ada@example.com"}}'
curl -s -w '%{{http_code}}\\n' -X POST {api}/auth/reset-password -H 'Content-Type: application/json' \\
     -d '{{"email": "ada@example.com", "code": "'$(code ada@example.com)'", "newPassword": "Correct-Horse-42"}}'""",
    ),
    Step(
        "Log in, log out (204): the refresh token is revoked, and refreshing with it is a 401",
        """REFRESH=$({curl} -X POST {api}/auth/login -H 'Content-Type: application/json' \\
     -d '{{"email": "ada@example.com", "password": "Correct-Horse-42"}}' | field refreshToken)
curl -s -w '%{{http_code}}\\n' -X POST {api}/auth/logout -H 'Content-Type: application/json' \\
     -d '{{"refreshToken": "'$REFRESH'"}}'
{curl} -X POST {api}/auth/refresh -H 'Content-Type: application/json' -d '{{"refreshToken": "'$REFRESH'"}}'""",
    ),
)


def render(api: str, steps: tuple[Step, ...] = STEPS, outbox: str = OUTBOX) -> str:
    """The steps as one shell script for the API at `api` (whose emails are in `outbox`): comments, then commands,
    one block per step."""
    blocks = [f"API={api}\nOUTBOX={outbox}\n{PRELUDE}"]
    for step in steps:
        commands = step.commands.format(api="$API", curl=CURL)
        blocks.append(f"# {step.comment}\n{commands}")
    return "\n\n".join(blocks)
