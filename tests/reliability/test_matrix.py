"""The reliability matrix in the test suite: the fast subset by default, everything with --full.

Each scenario must end in a finished deployment equal to the clean run's, or an exact return to
the state before it (see scenarios.py). `python -m tests.reliability [--full]` runs the same scenarios and prints
them as a table.
"""

from __future__ import annotations

import pytest

from .kill import KillPoint, kill_points, run_kill_point
from .scenarios import (
    CLEAN_OUTCOME,
    OPERATIONS,
    STRATEGIES,
    Scenario,
    clean_run,
    fast_matrix,
    known_broken,
    matrix,
    run_scenario,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" in metafunc.fixturenames:
        full = bool(metafunc.config.getoption("--full", default=False))
        scenarios = [s for s in (matrix() if full else fast_matrix()) if s.what != "clean"]
        params = [
            pytest.param(
                s,
                id=s.id,
                marks=[pytest.mark.xfail(strict=True, reason=why)] if (why := known_broken(s)) else [],
            )
            for s in scenarios
        ]
        metafunc.parametrize("scenario", params)
    if "kill_point" in metafunc.fixturenames:
        full = bool(metafunc.config.getoption("--full", default=False))
        points = kill_points(fast=not full)
        metafunc.parametrize("kill_point", points, ids=[p.id for p in points])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_clean_run_finishes_and_calls_what_the_matrix_covers(strategy: str) -> None:
    """A clean run is judged against what the steps were asked for (expected.py); its end state
    is kept for the scenarios below (clean_run: once per process)."""
    outcome = clean_run(strategy)

    assert outcome.outcome == CLEAN_OUTCOME.get(strategy, "finished")
    assert outcome.calls == sorted(OPERATIONS[strategy]), (
        "the steps call other operations than the matrix injects faults into; update OPERATIONS"
    )


def test_scenario_ends_finished_or_restored(scenario: Scenario) -> None:
    """Finished: also the whole end state of the strategy's clean run; restored: the whole state
    from before (a second rollback after an outage counts)."""
    outcome = run_scenario(scenario)

    assert outcome.ok, f"{scenario.id}: {outcome.outcome}"


def test_killed_at_a_step_boundary_the_resumed_execution_finishes_or_restores(kill_point: KillPoint) -> None:
    outcome, _ = run_kill_point(kill_point)

    assert outcome in ("finished", "restored"), f"{kill_point.id}: {outcome}"
