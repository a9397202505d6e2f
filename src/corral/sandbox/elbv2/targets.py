"""Registered targets and their health, on sandbox time.

Each target runs the target group's health check against a probe: ECS hands one per task
(`elb_probe() -> (ok, status code)`, `on_target_health(...)`); targets registered through
the API get a `StaticProbe` that always passes unless an admin sets it otherwise.

Event driven: nothing polls. When the probe's answer differs from the target's state, one
timer is set for the moment the threshold is reached (HealthyThresholdCount or
UnhealthyThresholdCount times the interval; one interval for a newly registered target to become
healthy, as AWS documents); at that moment the probe is asked again and
the state changes only if the answer held. A stable target has no timer until
`probe_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..core.timers import Timer
from .target_groups import TargetGroup, TargetKey

if TYPE_CHECKING:
    from ..core.world import World


class Probe(Protocol):
    def elb_probe(self) -> tuple[bool, int]: ...

    def on_target_health(
        self, tg_arn: str, state: str, reason: str | None, description: str | None
    ) -> None: ...


@dataclass
class StaticProbe:
    """The probe of a target registered through the API: a fixed answer."""

    ok: bool = True
    status_code: int = 200

    def elb_probe(self) -> tuple[bool, int]:
        return self.ok, self.status_code

    def on_target_health(self, tg_arn: str, state: str, reason: str | None, description: str | None) -> None:
        """Nobody listens to API-registered targets."""


INITIAL = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
UNUSED = (
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)
UNAVAILABLE = ("unavailable", "Target.HealthCheckDisabled", "Health checks are disabled for the target group")
NOT_REGISTERED = ("unused", "Target.NotRegistered", "Target is not registered to the target group")
HEALTHY = ("healthy", None, None)


def unhealthy(group: TargetGroup, code: int | None) -> tuple[str, str, str]:
    if group.health_check.protocol not in ("HTTP", "HTTPS"):
        return ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")
    if not code:
        return ("unhealthy", "Target.Timeout", "Request timed out")
    return ("unhealthy", "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]")


@dataclass(eq=False)
class RegisteredTarget:
    group: TargetGroup = field(repr=False)
    world: World = field(repr=False)
    target_id: str
    port: int | None
    availability_zone: str | None
    probe: Any  # a Probe; Any because ECS's task objects satisfy it structurally
    state: str = "initial"
    reason: str | None = None
    description: str | None = None
    pending: Timer | None = field(default=None, repr=False)
    pending_state: str | None = None
    pending_at: float = 0.0
    removed: bool = False

    @property
    def key(self) -> TargetKey:
        return (self.target_id, self.port)

    # ---------------------------------------------------------------- lifecycle

    def start(self, now: float) -> None:
        """Just registered: checks begin if the group receives traffic."""
        self._set(*INITIAL, notify=False)
        self.evaluate(now)

    def evaluate(self, now: float) -> None:
        """Look at the probe at `now` and schedule the next state change, if any."""
        if self.removed or self.state == "draining":
            return
        if not self.group.attached:
            self._cancel()
            self._set(*UNUSED)
            return
        if not self.group.health_check.enabled:
            self._cancel()
            self._set(*UNAVAILABLE)
            return
        if self.state in ("unused", "unavailable"):
            self._set(*INITIAL)
        ok, code = self._observe()
        wanted = "healthy" if ok else "unhealthy"
        if self.state == wanted:
            self._cancel()  # stable: nothing to schedule
            if not ok:
                self._set(*unhealthy(self.group, code), notify=False)
            return
        if self.pending is not None and self.pending_state == wanted:
            return  # already counting toward that state
        self._cancel()
        health = self.group.health_check
        count = self._checks_to(ok, health.healthy_threshold, health.unhealthy_threshold)
        self.pending_state = wanted
        jitter = self.world.jitter
        first = jitter.first_check(health.interval) if jitter else health.interval
        self.pending_at = now + first + (count - 1) * health.interval
        self.pending = self.world.timers.call_at(self.pending_at, self._threshold_reached)

    def _checks_to(self, ok: bool, healthy_threshold: int, unhealthy_threshold: int) -> int:
        """How many checks in a row it takes to change state. A newly registered target is healthy
        after one passing check whatever the threshold, which applies to a target recovering from
        unhealthy ("Optimize load balancer health check parameters for Amazon ECS", ECS Developer
        Guide; "Health checks for Application Load Balancer target groups": "After your target is
        registered, it must pass one health check to be considered healthy")."""
        if not ok:
            return unhealthy_threshold
        return 1 if self.state == "initial" else healthy_threshold

    def _threshold_reached(self) -> None:
        """Timer: the threshold's worth of checks has passed; change state if the answer held."""
        self.pending = None
        at, wanted = self.pending_at, self.pending_state
        self.pending_state = None
        if self.removed or self.state == "draining" or not self.group.attached:
            return
        ok, code = self._observe()
        if ("healthy" if ok else "unhealthy") == wanted:
            self._set(*(HEALTHY if ok else unhealthy(self.group, code)))
        self.evaluate(at)

    def drain(self, now: float) -> float:
        """Deregistered: `draining` for the deregistration delay, then gone."""
        delay = self.group.deregistration_delay
        if self.state == "draining":
            return max(0.0, self.pending_at - now)
        if self.world.jitter is not None:  # a target without connections drains at once
            delay = self.world.jitter.drain(delay)
        self._cancel()
        self._set(*DRAINING)
        self.pending_at = now + delay
        self.pending = self.world.timers.call_at(self.pending_at, self._drained)
        return delay

    def _drained(self) -> None:
        self.pending = None
        self.remove()

    def remove(self) -> None:
        self._cancel()
        self.removed = True
        if self.group.targets.get(self.key) is self:
            del self.group.targets[self.key]

    # ---------------------------------------------------------------- helpers

    def _observe(self) -> tuple[bool, int | None]:
        ok, code = self.probe.elb_probe()
        return bool(ok) and self.group.health_check.matches(code), code

    def _cancel(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
        self.pending = None
        self.pending_state = None

    def _set(self, state: str, reason: str | None, description: str | None, *, notify: bool = True) -> None:
        changed = state != self.state
        self.state, self.reason, self.description = state, reason, description
        if changed and notify:
            self.probe.on_target_health(self.group.arn, state, reason, description)

    def describe(self) -> dict[str, Any]:
        port = self.group.health_check.port
        health_port = str(self.port) if port == "traffic-port" and self.port is not None else port
        target: dict[str, Any] = {"Id": self.target_id, "Port": self.port}
        if self.availability_zone:
            target["AvailabilityZone"] = self.availability_zone
        return {
            "Target": target,
            "HealthCheckPort": health_port,
            "TargetHealth": {"State": self.state, "Reason": self.reason, "Description": self.description},
        }


def not_registered(target_id: str, port: int | None) -> dict[str, Any]:
    state, reason, description = NOT_REGISTERED
    return {
        "Target": {"Id": target_id, "Port": port},
        "TargetHealth": {"State": state, "Reason": reason, "Description": description},
    }
