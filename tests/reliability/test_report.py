"""The full run's results file: counts per strategy and family, verdicts, provenance."""

from __future__ import annotations

from pathlib import Path

from .report import Provenance, markdown, write
from .scenarios import Outcome, Scenario

PROVENANCE = Provenance(commit="abc1234", dirty=True, started="2026-12-07T12:00:00+00:00", machine="2 cores")


def outcomes() -> list[Outcome]:
    return [
        Outcome(Scenario("rolling", "clean"), "finished"),
        Outcome(Scenario("rolling", "5xx on ecs:UpdateService", fault={"kind": "error"}), "finished"),
        Outcome(Scenario("rolling", "tasks: task exits", failure="task exits"), "BROKEN: not restored: x"),
        Outcome(
            Scenario("rolling", "outage of ecs", fault={"kind": "error"}, family="outage"),
            "restored (by a second rollback)",
        ),
        Outcome(Scenario("demo_rolling", "killed when EcsRollingDeploy is Running"), "restored"),
        Outcome(
            Scenario("demo_rolling", "failing release, killed when ...", family="rollback kill"), "restored"
        ),
        Outcome(
            Scenario("demo_rolling", "release, delegate killed in ...", family="delegate kill"), "BROKEN: x"
        ),
    ]


def test_the_results_name_the_commit_and_a_dirty_tree() -> None:
    text = markdown(outcomes(), PROVENANCE, command="python -m tests.reliability --full", seconds=90)

    assert "Commit abc1234, tree with uncommitted changes (dirty)" in text
    assert "1.5 min wall" in text


def test_counts_are_per_strategy_and_family_and_broken_scenarios_are_listed() -> None:
    text = markdown(outcomes(), PROVENANCE, command="python -m tests.reliability --full", seconds=1)
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}

    assert rows["rolling"] == "| rolling | 1 / 1 | 1 / 1 | 0 / 1 |  | 1 / 1 |  |  |  |"
    assert rows["demo_rolling"] == "| demo_rolling |  |  |  |  |  | 1 / 1 | 1 / 1 | 0 / 1 |"
    assert "Verdicts: 2 BROKEN, 2 finished, 2 restored, 1 restored (by a second rollback)." in text
    assert "- rolling: tasks: task exits: BROKEN: not restored: x" in text


def test_write_puts_the_file_where_it_is_asked(tmp_path: Path) -> None:
    path = write(outcomes(), PROVENANCE, command="c", seconds=1, path=tmp_path / "results" / "reliability.md")

    assert path.read_text().startswith("# Reliability matrix, full run (`c`)")
