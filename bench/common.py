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
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memoryGiB": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write(name: str, title: str, rows: list[dict[str, Any]], data: dict[str, Any]) -> Path:
    """Write bench/results/NAME.json and NAME.md; rows are {metric, value, target, met} dicts."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"machine": info, "rows": rows, **data}, indent=2, default=str) + "\n"
    )
    lines = [
        f"# {title}",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memoryGiB']} GiB, "
        f"Python {info['python']}, {info['os']}; commit {info['commit']}, {info['date']}.",
        "",
        "| metric | measured | target | met |",
        "|---|---|---|---|",
    ]
    for row in rows:
        met = row.get("met")
        lines.append(
            f"| {row['metric']} | {row['value']} | {row.get('target', '')} | {'' if met is None else ('yes' if met else 'NO')} |"
        )
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
