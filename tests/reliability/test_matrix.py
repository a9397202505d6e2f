"""The reliability matrix in the test suite: the fast subset by default, everything with --full.

Each scenario must end in a finished deployment equal to the clean run's, or an exact return to
the state before it (see scenarios.py). `python -m tests.reliability [--full]` runs the same scenarios and prints
them as a table.
"""

from __future__ import annotations

import pytest

from .kill import KillPoint, kill_points, run_kill_point
from .kill_delegate import DelegateKill, delegate_kills, run_delegate_kill
from .kill_rollback import RollbackKill, rollback_kills, run_rollback_kill
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
    if "rollback_kill" in metafunc.fixturenames:
        full = bool(metafunc.config.getoption("--full", default=False))
        kills = rollback_kills(fast=not full)
        metafunc.parametrize("rollback_kill", kills, ids=[k.id for k in kills])
    if "delegate_kill" in metafunc.fixturenames:
        full = bool(metafunc.config.getoption("--full", default=False))
        delegated = delegate_kills(fast=not full)
        metafunc.parametrize("delegate_kill", delegated, ids=[k.id for k in delegated])


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


def test_killed_at_a_step_boundary_of_the_rollback_the_resumed_execution_restores(
    rollback_kill: RollbackKill,
) -> None:
    """A failing release's rollback steps, the runner killed as each starts and as each ends
    (kill_rollback.py): resumed, the demo cluster's whole state is as before the release."""
    outcome, _ = run_rollback_kill(rollback_kill)

    assert outcome == "restored", f"{rollback_kill.id}: {outcome}"


def test_a_delegate_killed_inside_an_ecs_step_creates_nothing_twice(delegate_kill: DelegateKill) -> None:
    """Distributed mode (kill_delegate.py): the delegate SIGKILLed at a moment inside an ECS step
    and started again; nothing is created twice, and the release finishes (or, failing, the
    rollback restores the state from before exactly)."""
    outcome, _ = run_delegate_kill(delegate_kill)

    wanted = "restored" if delegate_kill.release == "failing" else "finished"
    assert outcome == wanted, f"{delegate_kill.id}: {outcome}"
