"""The whole AWS end state (end_state.py) of the sandbox demo project's cluster, as the kill
families judge it: read with plain boto3 once load balancer targets and draining services have
settled (two reads in a row alike), so "restored" compares what stays, not a drain in progress.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Any, cast

from .end_state import end_state

CLUSTER = "corral-demo"  # corral.demo's cluster (prepare_sandbox)


class DemoAws:
    """What end_state reads (the EcsEnv attributes it uses), for the demo's cluster."""

    def __init__(self, sandbox: Any, cluster: str = CLUSTER) -> None:
        self.sandbox, self.cluster = sandbox, cluster

    @cached_property
    def ecs(self) -> Any:
        return self.sandbox.client("ecs")

    @cached_property
    def elbv2(self) -> Any:
        return self.sandbox.client("elbv2")

    @cached_property
    def autoscaling(self) -> Any:
        return self.sandbox.client("application-autoscaling")

    @cached_property
    def servicediscovery(self) -> Any:
        return self.sandbox.client("servicediscovery")


def whole_state(sandbox: Any, *, settle: float = 10.0) -> dict[str, Any]:
    """The demo cluster's whole end state, normalised, once two reads 0.1 s apart agree (at most
    `settle` seconds: a state still changing then is returned as it is)."""
    view = DemoAws(sandbox)
    state = end_state(cast(Any, view))
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        time.sleep(0.1)
        again = end_state(cast(Any, view))
        if again == state:
            break
        state = again
    return state


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two states differ, as `path: before -> after` (a few, for a verdict's message)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                found.append(f"{where}: gone")
            elif key not in before:
                found.append(f"{where}: new {after[key]!r}"[:300])
            else:
                found += differences(before[key], after[key], where)
        return found
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"[:300]]
