"""Shared by the benchmarks: the machine's description and writing results (JSON + Markdown)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = int(
            next(
                x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")
            ).split()[1]
        )
    except (OSError, StopIteration, ValueError):
        memory_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memoryGiB": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        **tree(),
        "loadAverage": load_average(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: the machine is shared, and load stretches wall times."""
    return [round(x, 2) for x in os.getloadavg()]


def tree() -> dict[str, Any]:
    """The commit measured and whether the work tree differed from it (results files aside:
    `bench/run_all` rewrites them one after another)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout
        except OSError:
            return ""

    changed = [
        line[3:] for line in git("status", "--porcelain", "--", ".", ":(exclude)bench/results").splitlines()
    ]
    return {
        "commit": git("rev-parse", "--short=12", "HEAD").strip(),
        "dirty": bool(changed),
        "dirtyFiles": changed[:20],
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float], digits: int = 2) -> str:
    """min / median / max, for a table cell."""
    if not values:
        return "n/a"
    return " / ".join(f"{v:.{digits}f}" for v in (min(values), median(values), max(values)))


def write(name: str, title: str, rows: list[dict[str, Any]], data: dict[str, Any]) -> Path:
    """Write bench/results/NAME.json and NAME.md; rows are {metric, value, target, met} dicts."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"machine": info, "rows": rows, **data}, indent=2, default=str) + "\n"
    )
    dirty = "**dirty tree**: " + ", ".join(info["dirtyFiles"]) if info["dirty"] else "clean tree"
    load = ", ".join(f"{x:.2f}" for x in info["loadAverage"])
    lines = [
        f"# {title}",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memoryGiB']} GiB, "
        f"Python {info['python']}, {info['os']}; commit {info['commit']} ({dirty}), {info['date']}; "
        f"load average 1/5/15 min when written: {load}.",
        "",
        "| metric | measured | target | met |",
        "|---|---|---|---|",
    ]
    for row in rows:
        met = row.get("met")
        verdict = "" if met is None else ("yes" if met else "NO")
        if row.get("note"):  # why a target was missed, or what bounds the figure
            verdict = f"{verdict}: {row['note']}" if verdict else row["note"]
        lines.append(f"| {row['metric']} | {row['value']} | {row.get('target', '')} | {verdict} |")
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
