"""What a cold start imports: no function loads boto3 or email-validator with its handler (docs/benchmarks.md,
"Cold start"); those that need them import them at the first request that does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lambdas.catalog import FUNCTIONS


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_loading_a_handler_imports_neither_boto3_nor_email_validator(function: object) -> None:
    probe = (
        "import importlib, sys\n"
        f"importlib.import_module({function.module!r})\n"  # type: ignore[attr-defined]
        "print(sorted(name for name in ('boto3', 'email_validator', 's3transfer') if name in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout

    assert loaded.strip() == "[]"
