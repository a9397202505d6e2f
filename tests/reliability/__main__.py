"""`python -m tests.reliability [--full] [--jobs N] [-k TEXT]`: run the matrix and the kill points
(tests/reliability/kill.py, kill_rollback.py, kill_delegate.py), print the table.

Without --full, the fast subset that also runs in the normal test suite. `--full` without `-k`
also writes bench/results/reliability.md (report.py). Exit code 1 when any scenario ends in
neither a finished deployment nor an exact return to the state before it.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from . import report
from .kill import KillPoint, kill_points, run_kill_point
from .kill_delegate import delegate_kills, run_delegate_kill
from .kill_rollback import rollback_kills, run_rollback_kill
from .scenarios import Outcome, Scenario, fast_matrix, matrix, run_scenario, table


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability")
    parser.add_argument(
        "--full", action="store_true", help="every fault on every operation (default: the fast subset)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run at once, each in its own process")
    parser.add_argument("-k", default="", help="only scenarios whose name contains this text")
    args = parser.parse_args()
    provenance, started = report.Provenance.now(), time.monotonic()
    scenarios = [s for s in (matrix() if args.full else fast_matrix()) if args.k in s.id]
    outcomes: list[Outcome] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        # each strategy's clean run once: a faulted run that finishes is compared with its end state
        strategies = sorted({s.strategy for s in scenarios})
        clean = dict(
            zip(strategies, pool.map(run_scenario, [Scenario(s, "clean") for s in strategies]), strict=True)
        )
        references = [clean[s.strategy].end_state for s in scenarios]
        for scenario in scenarios:
            if scenario.what == "clean":
                _report(clean[scenario.strategy], outcomes)
        rest = [(s, r) for s, r in zip(scenarios, references, strict=True) if s.what != "clean"]
        # (a broken clean run gives no reference: its row fails the run; the others are judged alone)
        run = functools.partial(run_scenario, find_reference=False)
        for outcome in pool.map(run, [s for s, _ in rest], [r for _, r in rest]):
            _report(outcome, outcomes)
    for point in kill_points(fast=not args.full):
        if args.k in point.id:
            outcome, seconds = run_kill_point(point)  # one at a time: each runs a pipeline process
            print(f"{point.id}: {outcome}", file=sys.stderr, flush=True)
            outcomes.append(Outcome(_as_scenario(point), outcome, seconds))
    # the runner killed in each rollback; a delegate killed in each ECS step (distributed mode)
    for killed in rollback_kills(fast=not args.full):
        if args.k in killed.id:
            outcome, seconds = run_rollback_kill(killed)
            _report(
                Outcome(Scenario(killed.pipeline, killed.what, family="rollback kill"), outcome, seconds),
                outcomes,
            )
    for delegated in delegate_kills(fast=not args.full):
        if args.k in delegated.id:
            outcome, seconds = run_delegate_kill(delegated)
            _report(
                Outcome(
                    Scenario(delegated.pipeline, delegated.what, family="delegate kill"), outcome, seconds
                ),
                outcomes,
            )
    print(table(outcomes))
    if args.full and not args.k:
        command = f"python -m tests.reliability --full --jobs {args.jobs}"
        path = report.write(outcomes, provenance, command=command, seconds=time.monotonic() - started)
        print(f"wrote {path}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


def _report(outcome: Outcome, outcomes: list[Outcome]) -> None:
    print(f"{outcome.scenario.id}: {outcome.outcome}", file=sys.stderr, flush=True)
    outcomes.append(outcome)


def _as_scenario(point: KillPoint) -> Scenario:
    return Scenario(point.pipeline, f"killed when {point.step} is {point.status}")


if __name__ == "__main__":
    sys.exit(main())
