"""Wait: pause the pipeline for `spec.duration` (`10m`, `1h30m`).

The end time is checkpointed when the wait starts, so a resumed execution waits only for
what is left.
"""

from __future__ import annotations

import time

from .durations import parse_duration
from .steps import StepOutcome, StepRun


def run_wait(run: StepRun) -> StepOutcome:
    try:
        seconds = parse_duration(run.spec.get("duration", "0s"))
    except ValueError as error:
        return StepOutcome.failed(f"spec.duration: {error}")
    previous = run.previous_checkpoint or {}
    until = float(previous["until"]) if "until" in previous else time.time() + seconds
    if "until" not in previous:
        run.checkpoint({"until": until})
    left = until - time.time()
    run.log.section("Wait")
    run.log.info(f"Waiting {max(0.0, left):.1f}s")
    if left > 0 and run.abort.wait(left):
        return run.stopped_outcome()
    return StepOutcome()
