"""The reliability matrix in the test suite: the fast subset by default, everything with --full.

Each scenario must end in a finished deployment or an exact return to the state before it
(see scenarios.py). `python -m tests.reliability [--full]` runs the same scenarios and prints
them as a table.
"""

from __future__ import annotations

import pytest

from .scenarios import OPERATIONS, STRATEGIES, Scenario, fast_matrix, matrix, run_scenario


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" in metafunc.fixturenames:
        full = bool(metafunc.config.getoption("--full", default=False))
        scenarios = [s for s in (matrix() if full else fast_matrix()) if s.what != "clean"]
        metafunc.parametrize("scenario", scenarios, ids=[s.id for s in scenarios])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_clean_run_finishes_and_calls_what_the_matrix_covers(strategy: str) -> None:
    outcome = run_scenario(Scenario(strategy, "clean"))

    assert outcome.outcome == "finished"
    assert outcome.calls == sorted(OPERATIONS[strategy]), (
        "the steps call other operations than the matrix injects faults into; update OPERATIONS"
    )


def test_scenario_ends_finished_or_restored(scenario: Scenario) -> None:
    outcome = run_scenario(scenario)

    assert outcome.ok, f"{scenario.id}: {outcome.outcome}"
