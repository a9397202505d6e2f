"""Verdicts over measurements, as Argo Rollouts' analysis judges them: pure functions.

    assess_check([Measurement("health", Phase.FAILED), ...], Limits(failure_limit=1), complete=False)

Per check: more failed measurements than `failure_limit` is Failed; more consecutive errors
(the measurement itself could not be taken) than `consecutive_error_limit` is Error; more
inconclusive ones (no data) than `inconclusive_limit` is Inconclusive; otherwise Running until
the window is complete, then Successful (Inconclusive when nothing was measured). The
verdict over several checks is the worst of theirs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class Phase(enum.StrEnum):
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"


_WORST = (Phase.FAILED, Phase.ERROR, Phase.INCONCLUSIVE, Phase.RUNNING, Phase.SUCCESSFUL)


@dataclass(frozen=True)
class Measurement:
    check: str
    phase: Phase  # Successful, Failed, Error or Inconclusive
    value: Any = None
    message: str = ""


@dataclass(frozen=True)
class Limits:
    failure_limit: int = 0
    consecutive_error_limit: int = 4
    inconclusive_limit: int = 0


@dataclass(frozen=True)
class Verdict:
    phase: Phase
    message: str = ""
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.phase is not Phase.RUNNING


def assess_check(
    measurements: Sequence[Measurement], limits: Limits, *, complete: bool, name: str | None = None
) -> Verdict:
    counts = {p.value: sum(1 for m in measurements if m.phase is p) for p in Phase if p is not Phase.RUNNING}
    name = name or (measurements[0].check if measurements else "check")
    counted = {name: counts}
    if counts[Phase.FAILED] > limits.failure_limit:
        last = next(m for m in reversed(measurements) if m.phase is Phase.FAILED)
        message = f"{name}: {counts[Phase.FAILED]} failed measurements (limit {limits.failure_limit}); last: {last.message}"
        return Verdict(Phase.FAILED, message, counted)
    consecutive = 0
    for measurement in reversed(measurements):
        if measurement.phase is not Phase.ERROR:
            break
        consecutive += 1
    if consecutive > limits.consecutive_error_limit:
        message = f"{name}: {consecutive} measurements in a row could not be taken; last: {measurements[-1].message}"
        return Verdict(Phase.ERROR, message, counted)
    if counts[Phase.INCONCLUSIVE] > limits.inconclusive_limit:
        return Verdict(
            Phase.INCONCLUSIVE, f"{name}: {counts[Phase.INCONCLUSIVE]} measurements without data", counted
        )
    if not complete:
        return Verdict(Phase.RUNNING, "", counted)
    if counts[Phase.SUCCESSFUL] == 0:
        return Verdict(Phase.INCONCLUSIVE, f"{name}: no successful measurement in the window", counted)
    return Verdict(Phase.SUCCESSFUL, "", counted)


def assess(by_check: Mapping[str, Sequence[Measurement]], limits: Limits, *, complete: bool) -> Verdict:
    """The worst verdict over all checks."""
    verdicts = [assess_check(list(ms), limits, complete=complete, name=name) for name, ms in by_check.items()]
    if not verdicts:
        return Verdict(Phase.SUCCESSFUL if complete else Phase.RUNNING)
    worst = min(verdicts, key=lambda v: _WORST.index(v.phase))
    counts: dict[str, Mapping[str, int]] = {}
    for verdict in verdicts:
        counts.update(verdict.counts)
    messages = [v.message for v in verdicts if v.phase is worst.phase and v.message]
    return Verdict(worst.phase, "; ".join(messages), counts)
