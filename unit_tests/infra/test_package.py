"""`make build`'s packager, on a tiny source tree and a fake dependency dir: no pip, no network."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from infra import package
from infra.artifacts import MissingArtifactError, find, source_code_hash
from lambdas import catalog


def make_source(root: Path) -> Path:
    files = {
        "lambdas/__init__.py": "",
        "lambdas/catalog.py": "TABLES = ()\n",
        "lambdas/shared/__init__.py": "",
        "lambdas/shared/api.py": "def resolver(): ...\n",
        "lambdas/alpha/__init__.py": "",
        "lambdas/alpha/handler.py": "def lambda_handler(event, context): ...\n",
        "lambdas/alpha/__pycache__/handler.cpython-311.pyc": "bytecode",
        "lambdas/beta/__init__.py": "",
        "lambdas/beta/handler.py": "def lambda_handler(event, context): ...\n",
        "lambdas/beta/assets/page.html": "<html></html>",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def make_deps(root: Path) -> Path:
    files = {
        "pydantic/__init__.py": "VERSION = 'fake'\n",
        "pydantic/__pycache__/x.pyc": "bytecode",
        "pydantic_core/_pydantic_core.so": "\x7fELF fake",
        "pydantic_core/_pydantic_core.pyi": "stub",
        "pydantic-2.0.dist-info/METADATA": "Name: pydantic\n",
        "bin/some-script": "#!/bin/sh\n",
        "somepkg/bin/__init__.py": "",  # a subpackage named bin: imported, so kept
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755 if name.startswith("bin/") else 0o600)
    return root


CODES = [package.Code("alpha", "lambdas/alpha"), package.Code("beta", "lambdas/beta")]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    source = make_source(tmp_path / "src")
    deps = {"arm64": make_deps(tmp_path / "deps-arm"), "x86_64": make_deps(tmp_path / "deps-x86")}
    return source, deps


def test_zips_are_byte_identical_across_builds(tree, tmp_path: Path):
    source, deps = tree
    first = package.build(CODES, source_root=source, deps_dirs=deps, out_dir=tmp_path / "one")
    # Touch every file: timestamps must not reach the zip.
    for path in source.rglob("*"):
        if path.is_file():
            path.touch()
    second = package.build(CODES, source_root=source, deps_dirs=deps, out_dir=tmp_path / "two")
    assert [(b.name, b.architecture) for b in first] == [(b.name, b.architecture) for b in second]
    for a, b in zip(first, second, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes(), a.name
        assert source_code_hash(a.path) == source_code_hash(b.path)


def test_zip_contents_entries_timestamps_and_modes(tree, tmp_path: Path):
    source, deps = tree
    built = package.build(CODES, source_root=source, deps_dirs=deps, out_dir=tmp_path / "out")
    assert {(b.name, b.architecture) for b in built} == {(c.name, a) for c in CODES for a in ("arm64", "x86_64")}
    alpha = next(b for b in built if b.name == "alpha" and b.architecture == "arm64")
    assert alpha.path == tmp_path / "out" / "arm64" / "alpha.zip"
    with zipfile.ZipFile(alpha.path) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert set(names) == {
            "lambdas/__init__.py",
            "lambdas/catalog.py",
            "lambdas/shared/__init__.py",
            "lambdas/shared/api.py",
            "lambdas/alpha/__init__.py",
            "lambdas/alpha/handler.py",
            # All of lambdas/: the platform function imports every other function's module.
            "lambdas/beta/__init__.py",
            "lambdas/beta/handler.py",
            "lambdas/beta/assets/page.html",
            "pydantic/__init__.py",
            "pydantic_core/_pydantic_core.so",
            "pydantic-2.0.dist-info/METADATA",
            "somepkg/bin/__init__.py",
        }
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
            assert stat.S_ISREG(info.external_attr >> 16)
        assert archive.read("lambdas/alpha/handler.py").startswith(b"def lambda_handler")


def test_a_declared_function_without_its_package_fails(tree, tmp_path: Path):
    source, deps = tree
    with pytest.raises(package.PackagingError, match="lambdas/gamma/ does not exist"):
        package.build(
            [package.Code("gamma", "lambdas/gamma")], source_root=source, deps_dirs=deps, out_dir=tmp_path / "out"
        )


def test_dependencies_are_installed_for_the_lambda_platform_once_per_lock(tmp_path: Path):
    lock = tmp_path / "lambda.lock"
    lock.write_text("pydantic==2.0 --hash=sha256:abc\n")
    commands: list[Sequence[str]] = []

    def fake_pip(command: Sequence[str]) -> None:
        commands.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "pydantic").mkdir(parents=True)
        (target / "pydantic" / "__init__.py").write_text("")

    cache = tmp_path / ".deps"
    first = package.install_dependencies(lock, "arm64", cache, runner=fake_pip, python="python3.11")
    again = package.install_dependencies(lock, "arm64", cache, runner=fake_pip, python="python3.11")
    assert first == again
    assert (first / "pydantic" / "__init__.py").is_file()
    assert len(commands) == 1, "the second build reuses the cached install"
    command = " ".join(commands[0])
    for flag in (
        "-m pip install",
        "--platform manylinux2014_aarch64",
        "--only-binary=:all:",
        "--python-version 3.11",
        "--implementation cp",
        "--require-hashes",
        f"-r {lock}",
    ):
        assert flag in command
    x86 = package.install_dependencies(lock, "x86_64", cache, runner=fake_pip, python="python3.11")
    assert "--platform manylinux2014_x86_64" in " ".join(commands[1])
    lock.write_text("pydantic==2.1 --hash=sha256:def\n")
    changed = package.install_dependencies(lock, "arm64", cache, runner=fake_pip, python="python3.11")
    assert len({first, x86, changed}) == 3, "keyed by lock content and platform"
    assert not [p for p in cache.iterdir() if p.name.startswith(".")], "no staging dir left behind"


def test_a_failed_install_is_not_cached(tmp_path: Path):
    lock = tmp_path / "lambda.lock"
    lock.write_text("x==1\n")

    def failing_pip(command: Sequence[str]) -> None:
        raise RuntimeError("no network")

    with pytest.raises(RuntimeError):
        package.install_dependencies(lock, "arm64", tmp_path / ".deps", runner=failing_pip)
    assert list((tmp_path / ".deps").iterdir()) == []


def test_main_prints_each_zips_size_and_enforces_the_budget(tree, tmp_path: Path, monkeypatch, capsys):
    source, deps = tree
    monkeypatch.setattr(package, "ROOT", source)
    monkeypatch.setattr(package, "codes", lambda: CODES)
    monkeypatch.setattr(package, "install_dependencies", lambda lock, arch, cache: deps[arch])
    assert package.main(["--out", str(tmp_path / "out"), "--arch", "arm64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(CODES)
    for line, code in zip(lines, CODES, strict=True):
        size = (tmp_path / "out" / "arm64" / f"{code.name}.zip").stat().st_size
        assert line.startswith(str(tmp_path / "out" / "arm64" / f"{code.name}.zip"))
        assert f"({size} bytes)" in line
        assert " MB " in line
    assert package.main(["--out", str(tmp_path / "out"), "--max-size-mb", "0.0001"]) == 1
    assert "over the" in capsys.readouterr().err


def test_every_catalog_function_gets_a_zip():
    assert {code.name for code in package.codes()} == {f.name for f in catalog.FUNCTIONS}
    for code in package.codes():
        assert (package.ROOT / code.package / "handler.py").is_file()


def test_the_program_finds_a_built_zip_and_hashes_it(tmp_path: Path):
    path = tmp_path / "arm64" / "alpha.zip"
    path.parent.mkdir()
    path.write_bytes(b"zip bytes")
    artifact = find(tmp_path, "arm64", "alpha")
    assert artifact.path == path
    assert artifact.sha256 == __import__("base64").b64encode(hashlib.sha256(b"zip bytes").digest()).decode()
    with pytest.raises(MissingArtifactError, match="make build"):
        find(tmp_path, "x86_64", "alpha")
