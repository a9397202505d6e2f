"""The deployment benchmarks read what the CLI prints: a real `corral run` of new services against
a `corral sandbox` process, as bench/concurrency_bench.py runs it (no results file is written
here), and the arithmetic the fleet benchmark's bound and counts rest on."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench() -> Iterator[dict[str, ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        yield {
            name: importlib.import_module(name)
            for name in ("concurrency_bench", "fleet_bench", "deploy_tools")
        }
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.slow  # two `corral run` processes and a sandbox process: 10-25 s
def test_deployments_held_together_are_counted_waiting_at_once_and_the_done_line_is_read(
    bench: dict[str, ModuleType],
) -> None:
    result = bench["concurrency_bench"].measure_cli(3, speed=20, margin=2.0)
    assert (result["exitCode"], result["status"], result["succeeded"]) == (0, "Success", 3)
    assert result["waitingAtOnce"] == 3  # every task start held past the last registration
    assert result["stepsAtOnce"] == 3
    assert result["toDoneLine"] is not None and result["toDoneLine"] <= result["toExit"]
    assert result["ownPeakRssMiB"] > 0 and result["onePeakRssMiB"] > 0
    assert result["childrenSeen"] == 0  # an ECS-only pipeline starts no process
    assert result["calls"]["CreateService"] == 3


def test_waits_one_after_another_count_as_one_at_once(bench: dict[str, ModuleType]) -> None:
    concurrency, tools = bench["concurrency_bench"], bench["deploy_tools"]
    lines = [
        (1.0, "  [a/deploy] Waiting for Service a to reach steady state\n"),
        (2.0, "  [a/deploy] Service a reached steady state\n"),
        (3.0, "  [b/deploy] Waiting for Service b to reach steady state\n"),
        (4.0, "  [c/deploy] Waiting for Service c to reach steady state\n"),
        (5.0, "  [b/deploy] Service b reached steady state\n"),
        (6.0, "  [c/deploy] Service c reached steady state\n"),
    ]
    run = tools.ToolRun("corral", 0, 0.0, 7.0, 0.0, 0.0, lines)
    assert concurrency.most_at_once(run, concurrency.WAITING, concurrency.STEADY) == 2


def test_fleet_bound_uses_the_bucket_that_binds_and_processes_alive_at_once(
    bench: dict[str, ModuleType],
) -> None:
    fleet, tools = bench["fleet_bench"], bench["deploy_tools"]
    # RegisterTaskDefinition: 20 burst, 1 a second; UpdateService: 50 burst, 5 a second (AWS's
    # "Request throttling for the Amazon ECS API" table, corral.aws.ecs_limits)
    assert fleet.api_floor(200)[:2] == (180.0, "task-definition-modify")
    assert fleet.api_floor(50)[0] == 30.0
    assert fleet.api_floor(10)[0] == 0.0
    runs = [
        tools.ToolRun("ecs-deploy", 0, start, end, 0.0, 0.0)
        for start, end in ((0, 5), (1, 2), (3, 6), (7, 8))
    ]
    assert fleet.at_once(runs) == 2
