"""`make build`: one deterministic Lambda zip per catalog function, per architecture.

    python -m infra.package [--arch arm64 --arch x86_64] [--out build] [--lock requirements/lambda.lock]

Each zip ships only what its function imports, compiled for the Lambda runtime, because a cold start pays for
every module it compiles and every file it ships (docs/benchmarks.md, "Cold start"):
- What it imports is traced, never listed by hand: a fresh `python -S` imports the function's handler module, the
  modules it imports lazily (`Function.lazy_imports`) and, for the function that documents the API, every API
  function's handler. Every file in a directory holding a traced module ships (its sibling modules, which a
  library may import later, its data files and native extensions), with the metadata of each distribution it
  ships; under lambdas/, every traced package ships whole. The runtime's boto3 is never shipped.
- Every shipped module carries its bytecode (`__pycache__/<name>.cpython-313.pyc`, unchecked-hash: Lambda's
  /var/task is read-only, so nothing compiled at a cold start is kept), compiled by this interpreter, which must
  be the runtime's version (LAMBDA_RUNTIME): the build refuses any other.

requirements/lambda.lock is installed for the Lambda platform, cached under build/.deps/ by the lock's hash and
the platform. Same inputs, same bytes: sorted entries, fixed timestamps and permissions, bytecode compiled with a
fixed hash seed and the archive path as its file name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from infra import artifacts
from lambdas import catalog

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
PYTHON_VERSION = "3.13"
# The one Lambda runtime the zips are built for: their native wheels (cp313) and bytecode load on no other.
LAMBDA_RUNTIME = f"python{PYTHON_VERSION}"
BYTECODE_TAG = f"cpython-{PYTHON_VERSION.replace('.', '')}"
MAX_ZIP_BYTES = 5 * 1024 * 1024
# The earliest time a zip can hold: the same for every build, on every machine.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, rw-r--r--: Lambda needs world-readable, nothing needs executable
# Nothing the runtime imports: bytecode from the source tree (rebuilt here), type stubs, and the console scripts
# that `pip install --target` writes to <target>/bin (only there: a package may have a `bin` subpackage of its own).
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_TOP_LEVEL_DIRS = frozenset({"bin"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi")

Runner = Callable[[Sequence[str]], None]


class PackagingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Code:
    """One zip to write: its name, the package its handler lives in (must exist), and the modules whose imports
    decide what it ships."""

    name: str
    package: str
    imports: tuple[str, ...]


@dataclass(frozen=True)
class Built:
    name: str
    architecture: str
    path: Path
    size: int


def codes() -> list[Code]:
    """Every catalog function: API functions and user pool triggers alike."""
    api_modules = tuple(function.module for function in catalog.FUNCTIONS if function.serves_api)
    return [
        Code(
            function.name,
            function.package,
            (function.module, *function.lazy_imports, *(api_modules if function.documents_api else ())),
        )
        for function in catalog.FUNCTIONS
    ]


def runtime_problem(runtime: str) -> str | None:
    """Why a Lambda runtime cannot run the zips (None if it can): checked with the stack's settings, at preview."""
    if runtime == LAMBDA_RUNTIME:
        return None
    return (
        f"lambdaRuntime is {runtime!r}, but the zips are built for {LAMBDA_RUNTIME!r} ({BYTECODE_TAG} wheels and "
        f"bytecode that load on no other Python): set serverless-platform:lambdaRuntime to {LAMBDA_RUNTIME}"
    )


def _run(command: Sequence[str]) -> None:
    subprocess.run(command, check=True)


def install_dependencies(
    lock: Path, architecture: str, cache_root: Path, *, runner: Runner = _run, python: str = sys.executable
) -> Path:
    """The lock installed for Lambda's platform, once per (lock content, platform): later builds reuse it."""
    platform = PLATFORMS[architecture]
    key = hashlib.sha256(lock.read_bytes() + f"{platform} cp{PYTHON_VERSION}".encode()).hexdigest()[:16]
    target = cache_root / f"{architecture}-{key}"
    if target.is_dir():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{architecture}-", dir=cache_root))
    try:
        runner(
            [
                python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                "--platform", platform, "--only-binary=:all:", "--python-version", PYTHON_VERSION,
                "--implementation", "cp", "--require-hashes", "--no-deps", "--target", str(staging),
                "-r", str(lock),
            ]
        )  # fmt: skip
        staging.rename(target)  # atomic: an interrupted install never looks cached
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _files(root: Path, prefix: str = "") -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        skipped = _SKIPPED_DIRS | (_SKIPPED_TOP_LEVEL_DIRS if Path(dirpath) == root else frozenset())
        dirnames[:] = [d for d in dirnames if d not in skipped and not d.endswith(".egg-info")]
        for filename in filenames:
            if filename.endswith(_SKIPPED_SUFFIXES):
                continue
            path = Path(dirpath) / filename
            yield prefix + path.relative_to(root).as_posix(), path


# Runs in a fresh `python -S -B`: only the given roots and the standard library are importable.
_TRACE = """
import importlib, json, sys
roots, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.path[:0] = roots
for module in modules:
    importlib.import_module(module)
print(json.dumps(sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})))
"""


def library_roots() -> list[str]:
    """Where this interpreter's libraries live: the same pinned versions as the lock, importable here whatever
    the target architecture (the arm64 wheels would not load on an x86_64 build machine)."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def trace(modules: Sequence[str], roots: Sequence[Path | str], *, python: str = sys.executable) -> set[str]:
    """Every file (relative to its root) that importing `modules` loads from `roots`; the standard library's are
    not under any root."""
    completed = subprocess.run(
        [python, "-S", "-B", "-c", _TRACE, json.dumps([str(root) for root in roots]), json.dumps(list(modules))],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
    )
    if completed.returncode != 0:
        raise PackagingError(f"importing {', '.join(modules)} failed:\n{completed.stderr.strip()}")
    loaded = [Path(file) for file in json.loads(completed.stdout)]
    traced = set()
    for root in map(Path, roots):
        for file in loaded:
            if file.is_relative_to(root):
                traced.add(file.relative_to(root).as_posix())
    return traced


def _distribution_files(deps_dir: Path) -> dict[str, set[str]]:
    """Each installed distribution's metadata directory → the files its RECORD lists."""
    owned = {}
    for info in sorted(deps_dir.glob("*.dist-info")):
        record = info / "RECORD"
        lines = record.read_text().splitlines() if record.is_file() else []
        owned[info.name] = {line.split(",")[0] for line in lines if line}
    return owned


def zip_entries(source_root: Path, deps_dir: Path, traced: set[str]) -> dict[str, Path]:
    """Archive name → file: what the traced modules need from the installed dependencies and from lambdas/."""
    directories = {PurePosixPath(name).parent for name in traced}
    entries = {name: path for name, path in _files(deps_dir) if PurePosixPath(name).parent in directories}
    shipped = set(entries)
    for info, owned in _distribution_files(deps_dir).items():
        if owned & shipped:
            entries.update(_files(deps_dir / info, f"{info}/"))
    packages = {PurePosixPath(name).parts[:2] for name in traced if name.startswith("lambdas/")}
    for name, path in _files(source_root / "lambdas", "lambdas/"):
        parts = PurePosixPath(name).parts
        if parts[:2] in packages or (len(parts) == 2 and ("lambdas", parts[1]) in packages):
            entries[name] = path
    return entries


def bytecode_name(name: str) -> str:
    """Where the import system looks for a module's compiled form: `a/b.py` → `a/__pycache__/b.cpython-313.pyc`."""
    path = PurePosixPath(name)
    return str(path.parent / "__pycache__" / f"{path.stem}.{BYTECODE_TAG}.pyc")


# Unchecked-hash bytecode never looks at the source's mtime; the archive name as the file name and a fixed hash
# seed (set-constant order) keep the bytes independent of where and when the build runs.
_COMPILE = """
import json, py_compile, sys
for source, target, name in json.load(sys.stdin):
    py_compile.compile(source, cfile=target, dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


def compile_bytecode(entries: dict[str, Path], out_dir: Path, *, python: str = sys.executable) -> dict[str, Path]:
    """Archive name → compiled file, for every Python module among the entries."""
    sources = sorted(name for name in entries if name.endswith(".py"))
    jobs = [(str(entries[name]), str(out_dir / bytecode_name(name)), name) for name in sources]
    subprocess.run(
        [python, "-c", _COMPILE],
        input=json.dumps(jobs),
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return {bytecode_name(name): out_dir / bytecode_name(name) for name in sources}


def check_build_interpreter(version: tuple[int, int] = sys.version_info[:2]) -> None:
    """Bytecode only loads on the Python version that compiled it: the build runs on the runtime's version."""
    if ".".join(map(str, version)) != PYTHON_VERSION:
        raise PackagingError(
            f"the zips carry bytecode for {LAMBDA_RUNTIME}, so they must be built by Python {PYTHON_VERSION}, "
            f"not {'.'.join(map(str, version))}: run make build PYTHON=python{PYTHON_VERSION}"
        )


def write_zip(destination: Path, entries: dict[str, Path]) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, whatever machine builds it, so the mode bits mean the same
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name].read_bytes(), compresslevel=9)
    partial.replace(destination)


def build(
    codes: Iterable[Code],
    *,
    source_root: Path,
    deps_dirs: dict[str, Path],
    out_dir: Path,
    libraries: Sequence[Path | str] | None = None,
) -> list[Built]:
    """Writes out_dir/<arch>/<name>.zip for every code and architecture. `libraries`: where the tracer imports the
    dependencies from (default: this interpreter's, the same pinned versions)."""
    check_build_interpreter()
    codes = list(codes)
    for code in codes:
        if not (source_root / code.package).is_dir():
            raise PackagingError(f"{code.package}/ does not exist: the catalog declares a function {code.name!r}")
    roots = [source_root, *(library_roots() if libraries is None else libraries)]
    traced = {code.name: trace(code.imports, roots) for code in codes}
    built = []
    for architecture, deps_dir in sorted(deps_dirs.items()):
        entries = {code.name: zip_entries(source_root, deps_dir, traced[code.name]) for code in codes}
        with tempfile.TemporaryDirectory(prefix="bytecode-") as bytecode_dir:
            every_file = {
                name: path for function_entries in entries.values() for name, path in function_entries.items()
            }
            bytecode = compile_bytecode(every_file, Path(bytecode_dir))
            for code in codes:
                files = entries[code.name]
                files.update({bytecode_name(n): bytecode[bytecode_name(n)] for n in files if n.endswith(".py")})
                path = artifacts.zip_path(out_dir, architecture, code.name)
                write_zip(path, files)
                built.append(Built(code.name, architecture, path, path.stat().st_size))
    return built


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def report(built: Iterable[Built], max_bytes: int = MAX_ZIP_BYTES) -> list[str]:
    """One line per zip with its size; raises if any is over the budget."""
    lines, too_big = [], []
    for item in built:
        lines.append(f"{_shown(item.path)}  {item.size / (1024 * 1024):.2f} MB  ({item.size} bytes)")
        if item.size > max_bytes:
            too_big.append(f"{item.path} is {item.size} bytes, over the {max_bytes}-byte budget")
    if too_big:
        raise PackagingError("; ".join(too_big))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", action="append", choices=sorted(PLATFORMS), help="default: both")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements" / "lambda.lock")
    parser.add_argument("--max-size-mb", type=float, default=MAX_ZIP_BYTES / (1024 * 1024))
    args = parser.parse_args(argv)
    architectures = args.arch or sorted(PLATFORMS)
    deps = {arch: install_dependencies(args.lock, arch, args.out / ".deps") for arch in architectures}
    built = build(codes(), source_root=ROOT, deps_dirs=deps, out_dir=args.out)
    try:
        for line in report(built, int(args.max_size_mb * 1024 * 1024)):
            print(line)
    except PackagingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
