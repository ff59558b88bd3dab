"""`make coldstart`: each function's cold start as Lambda pays it, against a bare handler.

Each function's x86_64 zip (built by infra/package.py, as `make build` does) is unpacked into a read-only
folder; a fresh `python -S -B` (no site-packages; nothing compiled is written, as on Lambda's read-only /var/task)
with the zip's folder and then the runtime's boto3 on its path (this environment's boto3 and botocore, in a
folder of their own, as Lambda keeps them apart from the code) imports the handler module. The baseline is a bare
handler module that imports boto3 and creates a DynamoDB client, measured the same way. Each sample is the wall
time of the whole process; the rounds interleave every function and the baseline.

    python -m bench.coldstart          (or `make coldstart`)
    COLDSTART_ZIPS=<dir> python -m bench.coldstart   measures the zips in <dir> instead of building them
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import ROUNDS, row, table
from infra import package

ARCHITECTURE = "x86_64"  # the machine's own: the zip's native extensions must load here
# What the Lambda Python runtime provides beside the code (boto3 and what it needs).
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
BARE_HANDLER = """import boto3

DYNAMODB = boto3.client("dynamodb")


def lambda_handler(event, context):
    return {"statusCode": 200, "body": "{}"}
"""


def build_zips(out_dir: Path) -> dict[str, Path]:
    """Each function's x86_64 zip, as `make build` writes it."""
    deps = package.install_dependencies(package.ROOT / "requirements" / "lambda.lock", ARCHITECTURE, out_dir / ".deps")
    built = package.build(package.codes(), source_root=package.ROOT, deps_dirs={ARCHITECTURE: deps}, out_dir=out_dir)
    package.report(built)
    return {item.name: item.path for item in built}


def _top_level_names(distribution: str) -> set[str]:
    files = metadata.distribution(distribution).files or []
    return {
        file.parts[0]
        for file in files
        if not file.parts[0].endswith((".dist-info", ".data")) and file.parts[0] not in ("..", "bin", "__pycache__")
    }


def runtime_folder(cache: Path) -> Path:
    """A copy of this environment's boto3 and its dependencies in a folder of their own, compiled (the runtime's
    boto3 ships its bytecode), kept under build/ per set of versions."""
    versions = "-".join(metadata.version(distribution) for distribution in RUNTIME_DISTRIBUTIONS)
    folder = cache / f"runtime-{hashlib.sha256(versions.encode()).hexdigest()[:12]}"
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".runtime-", dir=cache))
    site = Path(metadata.distribution("boto3").locate_file(""))
    for distribution in RUNTIME_DISTRIBUTIONS:
        for name in _top_level_names(distribution):
            source = site / name
            if source.is_dir():
                shutil.copytree(source, staging / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, staging / name)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(staging)], check=True)
    staging.rename(folder)
    return folder


def _read_only(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    root.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def _writable(root: Path) -> None:
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


@contextmanager
def task_folders(zips: dict[str, Path]) -> Iterator[tuple[dict[str, Path], Path]]:
    """Each zip unpacked into a read-only folder (`bare` holds the bare handler), and the runtime's folder."""
    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        root = Path(scratch)
        folders = {"bare": root / "bare"}
        folders["bare"].mkdir()
        (folders["bare"] / "handler.py").write_text(BARE_HANDLER)
        for name, path in zips.items():
            with zipfile.ZipFile(path) as archive:
                archive.extractall(root / name)
            folders[name] = root / name
        for folder in folders.values():
            _read_only(folder)
        try:
            yield folders, runtime_folder(package.ROOT / "build" / ".coldstart")
        finally:
            for folder in folders.values():
                _writable(folder)


def cold_start(task: Path, runtime: Path, module: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of a fresh interpreter that imports the handler module from the task folder."""
    program = f"import sys; sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]; import {module}"
    environment = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "LANG": "C.UTF-8"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-B", "-c", program], check=True, env=environment)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def run() -> list[dict[str, Any]]:
    prebuilt = os.environ.get("COLDSTART_ZIPS")
    zips_dir = Path(prebuilt) / ARCHITECTURE if prebuilt else None
    if zips_dir:
        zips = {path.stem: path for path in sorted(zips_dir.glob("*.zip"))}
    else:
        zips = build_zips(package.ROOT / "build")
    modules = {code.name: code.imports[0] for code in package.codes()}
    with task_folders(zips) as (folders, runtime):
        cpu: dict[str, list[float]] = {name: [] for name in folders}
        wall: dict[str, list[float]] = {name: [] for name in folders}
        names = list(folders)
        for round_number in range(ROUNDS):
            shift = round_number % len(names)  # each round starts with a different one
            for name in names[shift:] + names[:shift]:
                module = "handler" if name == "bare" else modules[name]
                cpu_seconds, wall_seconds = cold_start(folders[name], runtime, module)
                cpu[name].append(cpu_seconds)
                wall[name].append(wall_seconds)
    sizes = {name: path.stat().st_size for name, path in zips.items()}
    rows = []
    for name in names:
        if name == "bare":
            continue
        wall_row = row(name, wall[name], wall["bare"], "s", "")
        note = (
            f"import {modules[name]} from its unpacked {sizes[name] / 2**20:.2f} MB zip / a bare boto3 handler; "
            f"CPU time; wall time {wall_row['candidate'] * 1000:.0f} / {wall_row['baseline'] * 1000:.0f} ms = "
            f"{wall_row['ratio']:.2f}x ({wall_row['ratio_min']:.2f}-{wall_row['ratio_max']:.2f})"
        )
        rows.append(row(f"coldstart_{name}", cpu[name], cpu["bare"], "s", note))
    return rows


if __name__ == "__main__":
    print(table(run()))
