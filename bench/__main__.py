"""`make bench`: every bench module's figures in one table, written to bench/results/latest.json.

A bench module is bench/<topic>.py exposing `run() -> list[dict]` (rows as bench/common.py describes them), also
runnable alone with `python -m bench.<topic>`. Every figure is a ratio to a baseline measured in the same run,
their rounds interleaved; docs/benchmarks.md says what each compares and how much it moves between runs.

    python -m bench [topic ...]      (default: every module)
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import table

RESULTS = Path(__file__).parent / "results" / "latest.json"
NOT_BENCHES = frozenset({"common", "servers"})


def topics() -> list[str]:
    """Every bench module: bench/<topic>.py with a run() function."""
    found = []
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.name.startswith("_") or module.name in NOT_BENCHES:
            continue
        if callable(getattr(importlib.import_module(f"bench.{module.name}"), "run", None)):
            found.append(module.name)
    return sorted(found)


def main(argv: list[str]) -> int:
    chosen = argv or topics()
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for topic in chosen:
        started = time.perf_counter()
        print(f"bench.{topic}...", file=sys.stderr, flush=True)
        try:
            topic_rows = importlib.import_module(f"bench.{topic}").run()
        except Exception as error:  # one broken bench must not lose the others' figures
            print(f"bench.{topic} failed: {error!r}", file=sys.stderr, flush=True)
            failed.append(topic)
            continue
        rows += [{"topic": topic, **r} for r in topic_rows]
        print(f"bench.{topic}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        print(table(topic_rows), file=sys.stderr, flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count()}
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "failed": failed,
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
