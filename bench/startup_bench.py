"""CLI start-up: `corral --help` and `corral validate` on the examples against `ecs --help` (ecs-deploy).

Run: python bench/startup_bench.py [--runs 10]   (`ecs` needs `pip install ecs-deploy`)
Writes bench/results/startup.json and bench/results/startup.md.

Each command runs --runs times as a fresh process (after one unmeasured warm-up run, so the
page cache and Python's bytecode cache are warm for every tool alike); the median wall time is
reported. A regression shows with `python -X importtime -m corral.cli --help 2>&1 | sort -t'|' -k2 -n | tail`.

What runs is the `corral` console script installed beside this Python, as in a virtualenv or
pipx install. A version manager's shim found first on PATH (pyenv's is a bash script that
runs `pyenv exec`, 40-70 ms before Python starts) is timed on a separate row, without target.
PYTHONDONTWRITEBYTECODE is dropped for the measured processes and their bytecode goes to
PYCACHE (outside the work tree): with it set, every run would compile Corral's modules from
source again, which no installed copy does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import median, write

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())
PYCACHE = Path(tempfile.gettempdir()) / "corral-bench-pycache"


def bench_env() -> dict[str, str]:
    """The environment for measured processes: bytecode cached, as in an installed copy."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def timed(args: list[str], runs: int, cwd: Path | None = None) -> list[float]:
    env = bench_env()
    subprocess.run(args, cwd=cwd, capture_output=True, check=False, env=env)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, cwd=cwd, capture_output=True, check=False, env=env)
        times.append(time.perf_counter() - started)
    return times


def console_script(name: str) -> str | None:
    """The script pip installed beside this Python; else what PATH finds."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    corral = console_script("corral") or "corral"
    commands: list[tuple[str, list[str], Path | None, float | None]] = [
        ("corral --help", [corral, "--help"], None, 0.15)
    ]
    on_path = shutil.which("corral")
    if on_path and Path(on_path).resolve() != Path(corral).resolve():
        commands.append((f"corral --help via PATH ({on_path})", [on_path, "--help"], None, None))
    for example in EXAMPLES:
        commands.append((f"corral validate (examples/{example.name})", [corral, "validate"], example, None))
    ecs = console_script("ecs")
    if ecs:
        commands.append(("ecs --help (ecs-deploy)", [ecs, "--help"], None, None))
    # other work on the machine slows every start-up alike: the load average is part of the result
    rows: list[dict[str, Any]] = [
        {"metric": "load average (1 min) at the start", "value": round(os.getloadavg()[0], 2)}
    ]
    data: dict[str, Any] = {"runs": args.runs, "corral": corral, "commands": {}}
    for label, command, cwd, target in commands:
        times = timed(command, args.runs, cwd)
        value = median(times)
        data["commands"][label] = [round(t, 4) for t in times]
        row: dict[str, Any] = {"metric": f"{label}: median wall time (s)", "value": round(value, 3)}
        if target is not None:
            row.update(target=f"≤ {target} s", met=value <= target)
        rows.append(row)
        print(f"{label:45s} {value:.3f} s", flush=True)
    rows.append({"metric": "load average (1 min) at the end", "value": round(os.getloadavg()[0], 2)})
    path = write("startup", f"CLI start-up (median of {args.runs} runs, warm cache)", rows, data)
    print(path.read_text())


if __name__ == "__main__":
    main()
