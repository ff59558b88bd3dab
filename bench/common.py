"""What every bench module shares: the repository's root, free ports, interleaved rounds, and one row per figure.

Standard library only: bench/local_stack.py's client processes import it.

A row (TEAM contract): name, candidate and baseline medians, unit, ratio = candidate median / baseline median,
ratio_min/ratio_max over the rounds (each round's candidate / the same round's baseline), the min-max of each
side, the number of rounds and a note saying what was compared.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 7


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def interleaved(candidate: Callable[[], float], baseline: Callable[[], float], rounds: int = ROUNDS):
    """Each round takes one candidate and one baseline sample, alternating which goes first, so that drift (a
    busy machine, a growing table) weighs on both alike."""
    candidate_samples, baseline_samples = [], []
    for round_number in range(rounds):
        if round_number % 2:
            baseline_samples.append(baseline())
            candidate_samples.append(candidate())
        else:
            candidate_samples.append(candidate())
            baseline_samples.append(baseline())
    return candidate_samples, baseline_samples


def row(name: str, candidate: Sequence[float], baseline: Sequence[float], unit: str, note: str) -> dict[str, Any]:
    ratios = [c / b for c, b in zip(candidate, baseline, strict=True)]
    return {
        "name": name,
        "candidate": statistics.median(candidate),
        "baseline": statistics.median(baseline),
        "unit": unit,
        "ratio": statistics.median(candidate) / statistics.median(baseline),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "candidate_min": min(candidate),
        "candidate_max": max(candidate),
        "baseline_min": min(baseline),
        "baseline_max": max(baseline),
        "rounds": len(ratios),
        "note": note,
    }


def per_call_seconds(action: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - started) / calls


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    if unit == "s/request":
        return f"{value * 1000:.2f} ms"
    if unit == "bytes":
        return f"{value / 1024:.0f} KiB"
    return f"{value:.4g} {unit}"


def table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: each figure as its median with the min-max over the rounds."""
    lines = [
        "| benchmark | candidate (min-max) | baseline (min-max) | ratio (min-max) | rounds |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        unit = r["unit"]
        lines.append(
            f"| {r['name']} | {_figure(r['candidate'], unit)} ({_figure(r['candidate_min'], unit)}-"
            f"{_figure(r['candidate_max'], unit)}) | {_figure(r['baseline'], unit)} ({_figure(r['baseline_min'], unit)}"
            f"-{_figure(r['baseline_max'], unit)}) | {r['ratio']:.2f}x ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) "
            f"| {r['rounds']} |"
        )
    return "\n".join(lines)


def python(*args: str, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], **kwargs)
