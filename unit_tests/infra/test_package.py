"""`make build`'s packager: on a tiny source tree and a fake dependency dir (no pip, no network), and on the
real functions with this environment's libraries standing in for the Lambda lock's."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import pytest

from embedded_stack.apigateway.events import lambda_context, proxy_event
from infra import package
from infra.artifacts import MissingArtifactError, find, source_code_hash
from infra.settings import SettingsError, StackSettings
from lambdas import catalog


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def make_source(root: Path) -> Path:
    return write_files(
        root,
        {
            "lambdas/__init__.py": "",
            "lambdas/catalog.py": "TABLES = ()\n",
            "lambdas/shared/__init__.py": "",
            "lambdas/shared/api.py": "import pydantic\n\ndef resolver(): ...\n",
            "lambdas/alpha/__init__.py": "",
            "lambdas/alpha/handler.py": (
                "import lambdas.catalog\nfrom lambdas.shared import api\n\n"
                "def lambda_handler(event, context):\n    return 'alpha'\n"
            ),
            "lambdas/alpha/__pycache__/handler.cpython-313.pyc": "stale bytecode",
            "lambdas/alpha/assets/page.html": "<html></html>",
            "lambdas/beta/__init__.py": "",
            "lambdas/beta/handler.py": "import somepkg.bin\n\ndef lambda_handler(event, context): ...\n",
            "lambdas/gamma/__init__.py": "",
            "lambdas/gamma/handler.py": "import not_installed_anywhere\n",
        },
    )


def make_deps(root: Path) -> Path:
    files = {
        "pydantic/__init__.py": "VERSION = 'fake'\n",
        "pydantic/extra.py": "LAZY = True\n",  # a sibling module the package may import later: ships
        "pydantic/v1/__init__.py": "",  # a subpackage nothing imports: stays out
        "pydantic/__pycache__/x.pyc": "bytecode",
        "pydantic/py.typed": "",
        "pydantic_core/_pydantic_core.so": "\x7fELF fake",
        "pydantic_core/_pydantic_core.pyi": "stub",
        "pydantic-2.0.dist-info/METADATA": "Name: pydantic\n",
        "pydantic-2.0.dist-info/RECORD": "pydantic/__init__.py,sha256=x,1\npydantic/extra.py,sha256=y,1\n",
        "pydantic_core-2.0.dist-info/RECORD": "pydantic_core/_pydantic_core.so,sha256=z,1\n",
        "bin/some-script": "#!/bin/sh\n",
        "somepkg/bin/__init__.py": "",  # a subpackage named bin: imported, so kept
    }
    write_files(root, files)
    for name in files:
        (root / name).chmod(0o755 if name.startswith("bin/") else 0o600)
    return root


CODES = [
    package.Code("alpha", "lambdas/alpha", ("lambdas.alpha.handler",)),
    package.Code("beta", "lambdas/beta", ("lambdas.beta.handler",)),
]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    source = make_source(tmp_path / "src")
    deps = {"arm64": make_deps(tmp_path / "deps-arm"), "x86_64": make_deps(tmp_path / "deps-x86")}
    return source, deps


def build(source: Path, deps: dict[str, Path], out: Path, codes=CODES) -> list[package.Built]:
    # The fake x86_64 dependencies stand in for this interpreter's libraries, as the real ones do in a build.
    return package.build(codes, source_root=source, deps_dirs=deps, out_dir=out, libraries=[deps["x86_64"]])


def test_zips_are_byte_identical_across_builds_and_build_folders(tree, tmp_path: Path):
    source, deps = tree
    first = build(source, deps, tmp_path / "one")
    # Touch every file, and build from another folder: neither timestamps nor paths may reach the zip.
    moved = tmp_path / "elsewhere" / "src"
    shutil.copytree(source, moved)
    for path in moved.rglob("*"):
        if path.is_file():
            path.touch()
    second = build(moved, deps, tmp_path / "two")
    assert [(b.name, b.architecture) for b in first] == [(b.name, b.architecture) for b in second]
    for a, b in zip(first, second, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes(), a.name
        assert source_code_hash(a.path) == source_code_hash(b.path)


def test_each_zip_ships_what_its_function_imports_with_bytecode(tree, tmp_path: Path):
    source, deps = tree
    built = build(source, deps, tmp_path / "out")
    assert {(b.name, b.architecture) for b in built} == {(c.name, a) for c in CODES for a in ("arm64", "x86_64")}
    alpha = next(b for b in built if b.name == "alpha" and b.architecture == "arm64")
    assert alpha.path == tmp_path / "out" / "arm64" / "alpha.zip"
    modules = {
        "lambdas/__init__.py",
        "lambdas/catalog.py",
        "lambdas/shared/__init__.py",
        "lambdas/shared/api.py",
        "lambdas/alpha/__init__.py",
        "lambdas/alpha/handler.py",
        "pydantic/__init__.py",
        "pydantic/extra.py",
    }
    with zipfile.ZipFile(alpha.path) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert set(names) == modules | {package.bytecode_name(name) for name in modules} | {
            "lambdas/alpha/assets/page.html",  # a traced package of ours ships whole
            "pydantic/py.typed",
            "pydantic-2.0.dist-info/METADATA",  # importlib.metadata finds the version of what ships
            "pydantic-2.0.dist-info/RECORD",
        }
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
            assert stat.S_ISREG(info.external_attr >> 16)
        assert archive.read("lambdas/alpha/handler.py").startswith(b"import lambdas.catalog")
    with zipfile.ZipFile(tmp_path / "out" / "x86_64" / "beta.zip") as archive:
        assert set(archive.namelist()) == {
            "lambdas/__init__.py",
            "lambdas/__pycache__/__init__.cpython-313.pyc",
            "lambdas/beta/__init__.py",
            "lambdas/beta/__pycache__/__init__.cpython-313.pyc",
            "lambdas/beta/handler.py",
            "lambdas/beta/__pycache__/handler.cpython-313.pyc",
            "somepkg/bin/__init__.py",
            "somepkg/bin/__pycache__/__init__.cpython-313.pyc",
        }, "beta imports neither lambdas.shared nor pydantic"


def test_bytecode_is_unchecked_hash_for_the_runtimes_python_and_is_what_loads(tree, tmp_path: Path):
    source, deps = tree
    built = build(source, deps, tmp_path / "out", codes=CODES[:1])
    task = tmp_path / "task"
    with zipfile.ZipFile(built[-1].path) as archive:
        archive.extractall(task)
        header = archive.read("lambdas/alpha/__pycache__/handler.cpython-313.pyc")[:8]
    assert package.LAMBDA_RUNTIME == "python3.13" == f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert header[:4] == importlib.util.MAGIC_NUMBER, "bytecode for the runtime's exact minor version"
    assert int.from_bytes(header[4:8], "little") == 0b01, "hash-based, source never checked (PEP 552)"
    # Unchecked: the runtime loads the shipped bytecode without reading the source again.
    (task / "lambdas/alpha/handler.py").write_text("def lambda_handler(event, context):\n    return 'source'\n")
    program = (
        "import sys; sys.path[:0] = [sys.argv[1]]; import lambdas.alpha.handler as h; print(h.lambda_handler(0, 0))"
    )
    loaded = subprocess.run(
        [sys.executable, "-S", "-B", "-c", program, str(task)], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "alpha"


def test_a_function_whose_imports_fail_is_not_packaged(tree, tmp_path: Path):
    source, deps = tree
    with pytest.raises(
        package.PackagingError, match=r"(?s)importing lambdas.gamma.handler failed:.*not_installed_anywhere"
    ):
        build(
            source, deps, tmp_path / "out", codes=[package.Code("gamma", "lambdas/gamma", ("lambdas.gamma.handler",))]
        )


def test_the_build_refuses_an_interpreter_other_than_the_runtimes():
    package.check_build_interpreter((3, 13))
    with pytest.raises(package.PackagingError, match=r"built by Python 3\.13, not 3\.11"):
        package.check_build_interpreter((3, 11))


def test_a_runtime_other_than_the_zips_is_refused_at_preview_with_the_setting_to_change():
    assert StackSettings(project="p", stack="dev", stage_name="dev", lambda_runtime="python3.13")
    with pytest.raises(SettingsError, match=r"'python3.11'.*built for 'python3.13' \(cpython-313"):
        StackSettings(project="p", stack="dev", stage_name="dev", lambda_runtime="python3.11")


def test_a_declared_function_without_its_package_fails(tree, tmp_path: Path):
    source, deps = tree
    with pytest.raises(package.PackagingError, match="lambdas/delta/ does not exist"):
        build(
            source, deps, tmp_path / "out", codes=[package.Code("delta", "lambdas/delta", ("lambdas.delta.handler",))]
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
    first = package.install_dependencies(lock, "arm64", cache, runner=fake_pip, python="python3.13")
    again = package.install_dependencies(lock, "arm64", cache, runner=fake_pip, python="python3.13")
    assert first == again
    assert (first / "pydantic" / "__init__.py").is_file()
    assert len(commands) == 1, "the second build reuses the cached install"
    command = " ".join(commands[0])
    for flag in (
        "-m pip install",
        "--platform manylinux2014_aarch64",
        "--only-binary=:all:",
        "--python-version 3.13",
        "--implementation cp",
        "--require-hashes",
        f"-r {lock}",
    ):
        assert flag in command
    x86 = package.install_dependencies(lock, "x86_64", cache, runner=fake_pip, python="python3.13")
    assert "--platform manylinux2014_x86_64" in " ".join(commands[1])
    lock.write_text("pydantic==2.1 --hash=sha256:def\n")
    changed = package.install_dependencies(lock, "arm64", cache, runner=fake_pip, python="python3.13")
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
    monkeypatch.setattr(package, "library_roots", lambda: [deps["x86_64"]])
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


# What the Lambda runtime provides beside the zip: boto3 and what it needs.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def _installed(distribution: str) -> tuple[Path, set[str]]:
    """Where a distribution is installed here, and its top-level entries (packages, modules, metadata)."""
    found = metadata.distribution(distribution)
    names = {file.parts[0] for file in found.files or [] if file.parts[0] not in ("..", "bin", "__pycache__")}
    return Path(found.locate_file("")), names


def _lambda_lock_distributions() -> list[str]:
    lock = (package.ROOT / "requirements" / "lambda.lock").read_text().splitlines()
    return [line.split("==")[0] for line in lock if "==" in line and not line.startswith((" ", "#"))]


@pytest.fixture(scope="module")
def real_zips(tmp_path_factory) -> dict[str, Path]:
    """The platform and tenants zips built from this repository, with this environment's copies of the Lambda
    lock's distributions (the same pins) standing in for the Lambda platform's."""
    root = tmp_path_factory.mktemp("real")
    deps = root / "deps"
    deps.mkdir()
    for distribution in _lambda_lock_distributions():
        site, names = _installed(distribution)
        for name in names:
            copy = shutil.copytree if (site / name).is_dir() else shutil.copy2
            copy(site / name, deps / name)
    wanted = [code for code in package.codes() if code.name in ("platform", "tenants")]
    built = package.build(wanted, source_root=package.ROOT, deps_dirs={"x86_64": deps}, out_dir=root / "out")
    package.report(built)
    runtime = root / "runtime"
    runtime.mkdir()
    for distribution in RUNTIME_DISTRIBUTIONS:
        site, names = _installed(distribution)
        for name in names:
            if not name.endswith(".dist-info"):
                (runtime / name).symlink_to(site / name)
    tasks = {"runtime": runtime}
    for item in built:
        with zipfile.ZipFile(item.path) as archive:
            archive.extractall(root / item.name)
        tasks[item.name] = root / item.name
    return tasks


def invoke_from_zip(task: Path, runtime: Path, module: str, event: dict) -> dict:
    """The handler's answer to one event, in a fresh interpreter that sees only the zip and the runtime's boto3."""
    program = (
        "import json, sys, types; sys.path[:0] = sys.argv[1:3]; import importlib; "
        "handler = importlib.import_module(sys.argv[3]).lambda_handler; "
        "context = types.SimpleNamespace(**json.loads(sys.argv[4]), get_remaining_time_in_millis=lambda: 10000); "
        "print(json.dumps(handler(json.loads(sys.stdin.read()), context)))"
    )
    fields = ("function_name", "memory_limit_in_mb", "function_version", "aws_request_id", "invoked_function_arn")
    example = lambda_context("packaged")
    context = json.dumps({name: getattr(example, name) for name in fields})
    completed = subprocess.run(
        [sys.executable, "-S", "-B", "-c", program, str(task), str(runtime), module, context],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "test", "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def test_the_platform_zip_serves_its_document_and_swagger_ui_from_what_it_ships(real_zips):
    """The document imports every API function's resolver, and Swagger UI its assets: all traced, none listed."""
    for path in ("/openapi.json", "/docs"):
        answer = invoke_from_zip(
            real_zips["platform"], real_zips["runtime"], "lambdas.platform.handler", proxy_event("GET", path)
        )
        assert answer["statusCode"] == 200, (path, answer)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Acme", "website": "acme.example", "contactEmail": "not an email"}, "body.contactEmail"),
        # A well-formed address reaches email-validator, which the function imports at the first check only.
        ({"name": "Acme", "website": "not a website", "contactEmail": "ops@acme.example"}, "body.website"),
    ],
)
def test_the_tenants_zip_validates_a_request_with_what_it_ships(real_zips, body: dict, field: str):
    event = proxy_event(
        "POST", "/tenants", body=json.dumps(body), headers={"Content-Type": "application/json"}, claims={"sub": "u"}
    )
    answer = invoke_from_zip(real_zips["tenants"], real_zips["runtime"], "lambdas.tenants.handler", event)
    assert answer["statusCode"] == 400, answer
    assert [error["field"] for error in json.loads(answer["body"])["errors"]] == [field]


def test_each_zip_ships_only_its_own_function_and_no_unused_library(real_zips):
    tenants = {path.relative_to(real_zips["tenants"]).parts[:2] for path in real_zips["tenants"].rglob("*.py")}
    assert ("lambdas", "tenants") in tenants and ("lambdas", "shared") in tenants
    assert ("lambdas", "identity") not in tenants and ("lambdas", "platform") not in tenants
    assert not (real_zips["tenants"] / "dns").exists(), "dnspython is never imported"
    assert not (real_zips["tenants"] / "boto3").exists() and not (real_zips["tenants"] / "botocore").exists()
    assert not (real_zips["tenants"] / "aws_lambda_powertools/event_handler/openapi/swagger_ui").exists()
    assert (real_zips["platform"] / "aws_lambda_powertools/event_handler/openapi/swagger_ui").is_dir()
