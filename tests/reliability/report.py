"""`bench/results/reliability.md`, written by `python -m tests.reliability --full`: the commit and
whether the tree was dirty, the machine and its load, counts per strategy and scenario family,
the verdicts, every broken scenario and the whole table."""

from __future__ import annotations

import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .scenarios import Outcome, table

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "reliability.md"
FAMILIES = ("clean", "fault", "tasks", "kept", "outage", "kill", "rollback kill", "delegate kill")
FAMILY_NAMES = {
    "clean": "clean run",
    "fault": "fault on an operation (cleared before the rollback)",
    "tasks": "release whose tasks fail",
    "kept": "fault kept while the rollback runs",
    "outage": "endpoint outage longer than the step's retries",
    "kill": "runner killed at a step boundary",
    "rollback kill": "runner killed at a step boundary of the rollback",
    "delegate kill": "delegate killed inside an ECS step (distributed)",
}


@dataclass(frozen=True)
class Provenance:
    commit: str
    dirty: bool
    started: str
    machine: str

    @classmethod
    def now(cls) -> Provenance:
        """Taken before the run starts (the results file it writes would make the tree dirty)."""
        root = RESULTS.parents[2]

        def git(*args: str) -> str:
            found = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
            return found.stdout.strip()

        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        return cls(
            commit=git("rev-parse", "--short", "HEAD") or "unknown",
            # results files aside: bench/run_all rewrites them one after another before this step
            dirty=bool(
                git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results")
            ),
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            machine=f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load} at the start",
        )


def family(outcome: Outcome) -> str:
    scenario = outcome.scenario
    if scenario.what == "clean":
        return "clean"
    if scenario.what.startswith("killed when"):
        return "kill"
    if scenario.family:
        return scenario.family
    return "tasks" if scenario.failure is not None else "fault"


def verdict(outcome: Outcome) -> str:
    return "BROKEN" if not outcome.ok else outcome.outcome


def markdown(outcomes: list[Outcome], provenance: Provenance, *, command: str, seconds: float) -> str:
    strategies = list(dict.fromkeys(o.scenario.strategy for o in outcomes))
    cells: Counter[tuple[str, str]] = Counter()
    good: Counter[tuple[str, str]] = Counter()
    for o in outcomes:
        cells[(o.scenario.strategy, family(o))] += 1
        good[(o.scenario.strategy, family(o))] += o.ok
    verdicts = Counter(verdict(o) for o in outcomes)
    broken = [o for o in outcomes if not o.ok]
    tree = "with uncommitted changes (dirty)" if provenance.dirty else "clean"
    lines = [
        f"# Reliability matrix, full run (`{command}`)",
        "",
        f"Commit {provenance.commit}, tree {tree}; started {provenance.started}, "
        f"{seconds / 60:.1f} min wall; {provenance.machine}.",
        "",
        "A scenario passes when it ends in a finished deployment whose whole end state equals the",
        "clean run's (normalised only for ids and times; the clean run itself is checked against what",
        "the steps were asked for), or, after the rollback, in exactly the state from before",
        "(tests/reliability/end_state.py). Each cell: passed / scenarios.",
        "",
        "| strategy | " + " | ".join(FAMILY_NAMES[f] for f in FAMILIES) + " |",
        "|---|" + "---|" * len(FAMILIES),
    ]
    for strategy in strategies:
        row = [
            f"{good[(strategy, f)]} / {cells[(strategy, f)]}" if cells[(strategy, f)] else ""
            for f in FAMILIES
        ]
        lines.append(f"| {strategy} | " + " | ".join(row) + " |")
    lines += ["", "Verdicts: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) + "."]
    lines += ["", f"Broken: {len(broken)}."]
    lines += [f"- {o.scenario.id}: {o.outcome}" for o in broken]
    lines += ["", "```", table(outcomes), "```", ""]
    return "\n".join(lines)


def write(
    outcomes: list[Outcome], provenance: Provenance, *, command: str, seconds: float, path: Path = RESULTS
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(outcomes, provenance, command=command, seconds=seconds))
    return path
