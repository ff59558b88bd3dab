"""The walkthrough `make run` prints, pasted as is into bash, against the stack under test."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from embedded_stack.walkthrough import render

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_the_walkthrough_runs_as_pasted_and_captures_the_ids_it_uses(outputs: dict[str, Any], tmp_path: Path) -> None:
    assert shutil.which("bash") and shutil.which("curl"), "the walkthrough needs bash and curl"
    script = render(outputs["apiUrl"].rstrip("/"), outbox=outputs.get("outbox", "")) + '\necho "TENANT=$TENANT"\n'

    for paste in ("first", "again"):  # a second paste must work too (409 on sign-up, a new website)
        finished = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)

        assert finished.returncode == 0, finished.stderr
        printed = finished.stdout
        tenant_id = printed.rsplit("TENANT=", 1)[1].strip()
        assert UUID.match(tenant_id), (paste, printed, finished.stderr)
        assert '"status":"ok"' in printed
        assert f'"id":"{tenant_id}"' in printed  # GET /tenants/$TENANT found it
        assert '"field":"body.website"' in printed
        assert '"fileName":"payments-2026-11-21.csv"' in printed
        assert "200 image/png" in printed  # the avatar_url, fetched without credentials
        assert '[{"payer":"DANNON","points":-100},{"payer":"UNILEVER","points":-200},' in printed
        assert '{"payer":"MILLER COORS","points":-4700}]' in printed
        assert '{"DANNON":1000,"UNILEVER":0,"MILLER COORS":5300}' in printed
        assert printed.count('{"message":"If the address has an account, a code is on its way to it"}') == 1
        assert '"message":"The refresh token is invalid, expired or revoked: log in again"' in printed  # logged out
        if "outbox" in outputs:  # a deployed stack's codes go to a real mailbox
            assert "\n204\n204\n" in printed  # the reset, then the logout
            assert finished.stderr == ""
