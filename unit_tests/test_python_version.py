"""One Python everywhere: the Lambda runtime's (infra/package.py), the virtual environment's, the locks' and ruff's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra import package

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"


def makefile_python_version() -> str:
    found = re.search(r"^PYTHON_VERSION := (\S+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert found, "the Makefile names the runtime's Python version"
    return found.group(1)


def test_the_runtime_is_python_3_13_on_amazon_linux_2023():
    assert (package.PYTHON_VERSION, package.LAMBDA_RUNTIME, package.BYTECODE_TAG) == (
        "3.13",
        "python3.13",
        "cpython-313",
    )


def test_the_tests_run_on_the_runtimes_python():
    assert "{}.{}".format(*sys.version_info[:2]) == package.PYTHON_VERSION


def test_the_makefile_pyproject_ruff_and_every_lock_name_the_runtimes_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert makefile_python_version() == package.PYTHON_VERSION
    assert project["project"]["requires-python"] == ">=3.13,<3.14"
    assert project["tool"]["ruff"]["target-version"] == "py313"
    for lock in ("dev", "run", "lambda"):
        header = (ROOT / "requirements" / f"{lock}.lock").read_text().splitlines()[1]
        assert f"--python-version {package.PYTHON_VERSION}" in header, lock


def python_the_makefile_picks(env: dict[str, str], cwd: Path) -> str:
    printed = subprocess.run(
        ["make", "-f", str(MAKEFILE), "-p", "-n", "-q", "__nothing__"], cwd=cwd, env=env, capture_output=True, text=True
    ).stdout
    found = re.search(r"^PYTHON := ?(.*)$", printed, re.MULTILINE)
    assert found, printed[-2000:]
    return found.group(1)


@pytest.fixture
def fresh_shell(tmp_path: Path) -> dict[str, str]:
    """A fresh login's environment, with pyenv's shims first on PATH and another Python global: pyenv's
    `python3.13` shim is there but fails to run (`pyenv: python3.13: command not found`)."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / f"python{package.PYTHON_VERSION}"
    shim.write_text(f"#!/bin/sh\necho 'pyenv: python{package.PYTHON_VERSION}: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "PATH": f"{shims}:/usr/bin:/bin"}


def test_make_picks_pyenvs_python_when_its_shim_is_not_active(fresh_shell: dict[str, str], tmp_path: Path):
    installed = Path(fresh_shell["HOME"]) / f".pyenv/versions/{package.PYTHON_VERSION}.9/bin"
    installed.mkdir(parents=True)
    (installed / f"python{package.PYTHON_VERSION}").symlink_to(sys._base_executable)
    picked = python_the_makefile_picks(fresh_shell, tmp_path)
    assert picked == str(installed / f"python{package.PYTHON_VERSION}")


def test_without_the_runtimes_python_make_says_what_to_install_and_makes_nothing(
    fresh_shell: dict[str, str], tmp_path: Path
):
    assert python_the_makefile_picks(fresh_shell, tmp_path) == ""
    failed = subprocess.run(
        ["make", "-f", str(MAKEFILE), f".venv/.bootstrapped-py{package.PYTHON_VERSION}"],
        cwd=tmp_path,
        env=fresh_shell,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0
    assert f"Python {package.PYTHON_VERSION} not found" in failed.stdout
    for hint in (f"apt-get install python{package.PYTHON_VERSION}", f"pyenv install {package.PYTHON_VERSION}"):
        assert hint in failed.stdout
    assert not (tmp_path / ".venv").exists()


def test_make_refuses_a_python_of_another_version(tmp_path: Path):
    other = tmp_path / "python3.12"
    other.write_text("#!/bin/sh\nexit 1\n")  # `sys.exit(version != 3.13)`, answered as another version would
    other.chmod(0o755)
    failed = subprocess.run(
        ["make", "-f", str(MAKEFILE), f"PYTHON={other}", f".venv/.bootstrapped-py{package.PYTHON_VERSION}"],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0
    assert f"is not a working Python {package.PYTHON_VERSION}" in failed.stdout
    assert not (tmp_path / ".venv").exists()
