"""`make build`: one deterministic Lambda zip per catalog function, per architecture.

    python -m infra.package [--arch arm64 --arch x86_64] [--out build] [--lock requirements/lambda.lock]

Every catalog function (API functions and user pool triggers alike) gets a zip holding all of `lambdas/` (the
`platform` function imports every other function's module to write the one OpenAPI document, and the whole
package is small) plus requirements/lambda.lock installed for the Lambda platform. The installed dependencies
are cached under build/.deps/, keyed by the lock's hash and the platform. Same inputs, same bytes: sorted
entries, fixed timestamps and permissions, no bytecode.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra import artifacts
from lambdas import catalog

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
PYTHON_VERSION = "3.11"
MAX_ZIP_BYTES = 5 * 1024 * 1024
# The earliest time a zip can hold: the same for every build, on every machine.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, rw-r--r--: Lambda needs world-readable, nothing needs executable
# Nothing the runtime imports: bytecode (stale across Python builds), type stubs, and the console scripts that
# `pip install --target` writes to <target>/bin (only there: a package may have a `bin` subpackage of its own).
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_TOP_LEVEL_DIRS = frozenset({"bin"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyi")

Runner = Callable[[Sequence[str]], None]


class PackagingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Code:
    """One zip to write: its name, and the package its handler lives in (must exist)."""

    name: str
    package: str


@dataclass(frozen=True)
class Built:
    name: str
    architecture: str
    path: Path
    size: int


def codes() -> list[Code]:
    """Every catalog function: API functions and user pool triggers alike."""
    return [Code(function.name, function.package) for function in catalog.FUNCTIONS]


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


def zip_entries(source_root: Path, deps_dir: Path) -> dict[str, Path]:
    """Archive name → file: the installed dependencies, then all of lambdas/ (which wins on a clash)."""
    entries = dict(_files(deps_dir))
    entries.update(_files(source_root / "lambdas", "lambdas/"))
    return entries


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


def build(codes: Iterable[Code], *, source_root: Path, deps_dirs: dict[str, Path], out_dir: Path) -> list[Built]:
    """Writes out_dir/<arch>/<name>.zip for every code and architecture."""
    built = []
    codes = list(codes)
    for code in codes:
        if not (source_root / code.package).is_dir():
            raise PackagingError(f"{code.package}/ does not exist: the catalog declares a function {code.name!r}")
    for architecture, deps_dir in sorted(deps_dirs.items()):
        entries = zip_entries(source_root, deps_dir)
        first: Path | None = None
        for code in codes:
            path = artifacts.zip_path(out_dir, architecture, code.name)
            # Same entries, same bytes: compress once per architecture, copy for the other functions.
            if first is None:
                write_zip(path, entries)
                first = path
            else:
                shutil.copyfile(first, path)
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
