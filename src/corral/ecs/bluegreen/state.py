"""What a Blue Green deployment journals: the state before it, and how far it got.

    state = BlueGreenState.from_journal(checkpoint)   # a step's rollback data, as journaled
    journal = state.to_journal(ctx)                     # the same keys, this execution's deployments added

Create Service captures it; each later step (Swap Target Groups, Traffic Shift) takes the one
before it as `setup` and returns it extended, so Rollback needs only the last one, even in a new
process. The journal keeps the camelCase keys Corral has always written, so the journal of an
execution started by an older Corral loads and resumes; keys it lacks take their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from corral.errors import DeploymentError

from ..autoscaling import Scaling
from ..context import OWN_DEPLOYMENTS
from ..listeners import Actions, ListenerRule
from ..snapshot import ServiceSnapshot

if TYPE_CHECKING:
    from ..context import StepContext


@dataclass(frozen=True)
class CapturedRule:
    """A listener rule a Standalone traffic shift changed, with its actions before the first change."""

    rule: ListenerRule
    actions: Actions

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.to_dict(), "actions": self.actions}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CapturedRule:
        return cls(ListenerRule.from_dict(data["rule"]), list(data["actions"]))


def captured_rules(journal: dict[str, Any] | None) -> list[CapturedRule]:
    """The rules Standalone traffic shifts of the stage changed (their actions before), oldest first."""
    return [CapturedRule.from_dict(item) for item in (journal or {}).get("standaloneRules") or []]


@dataclass
class BlueGreenState:
    cluster: str
    service_name: str
    load_balancer: str
    blue_service_name: str | None  # the service production traffic reached; None on a first deployment
    green_service_name: str  # the service this deployment (re)creates
    prod_rule: ListenerRule
    prod_actions: Actions  # what rollback writes back (after repairs: the consistent state)
    stage_rule: ListenerRule | None  # None in the traffic shift flow
    stage_actions: Actions | None
    prod_target_group_arn: str
    stage_target_group_arn: str
    traffic_shift: bool  # Create Service ran with isTrafficShift
    blue: ServiceSnapshot | None  # the BLUE service before, with its desired count raised to the manifest's
    blue_desired_count: int | None  # its desired count as found
    green: ServiceSnapshot  # the green service's name as it was before (usually MISSING or scaled to 0)
    green_action: str | None = None  # "update" or "replace", set before the green service is touched
    deferred_scaling: Scaling | None = None  # enableAutoScalingInSwapStep: attached at the cut-over
    swap_started: bool = False
    prod_swapped: bool = False
    traffic_shift_started: bool = False
    standalone_rules: list[CapturedRule] = field(default_factory=list)
    # this execution's ECS deployments, as StepContext marks them (kept as journaled)
    own_deployments: dict[str, Any] | None = None

    @property
    def deployed_pair(self) -> list[str]:
        """The services a step after Create Service changes: the new one and the old BLUE, if any."""
        return [name for name in (self.green_service_name, self.blue_service_name) if name]

    def but(self, **changes: Any) -> BlueGreenState:
        return replace(self, **changes)

    # ------------------------------------------------------------------ the journal

    @staticmethod
    def in_journal(journal: dict[str, Any] | None) -> bool:
        """Whether a step's data holds a Create Service's state (a Standalone shift alone does not)."""
        return bool(journal and journal.get("greenServiceName"))

    @classmethod
    def require(cls, journal: dict[str, Any] | None, step: str) -> BlueGreenState:
        if not cls.in_journal(journal):
            raise DeploymentError(
                f"{step} needs an ECS Blue Green Create Service step before it in the stage"
            )
        assert journal is not None
        return cls.from_journal(journal)

    @classmethod
    def from_journal(cls, data: dict[str, Any]) -> BlueGreenState:
        stage_rule = data.get("stageRule")
        blue = data.get("blue")
        deferred = data.get("deferredScaling")
        count = data.get("blueDesiredCount")
        return cls(
            cluster=data["cluster"],
            service_name=data.get("serviceName", ""),
            load_balancer=data.get("loadBalancer", ""),
            blue_service_name=data.get("blueServiceName"),
            green_service_name=data["greenServiceName"],
            prod_rule=ListenerRule.from_dict(data["prodRule"]),
            prod_actions=list(data["prodActions"]),
            stage_rule=ListenerRule.from_dict(stage_rule) if stage_rule is not None else None,
            stage_actions=data.get("stageActions"),
            prod_target_group_arn=data["prodTargetGroupArn"],
            stage_target_group_arn=data["stageTargetGroupArn"],
            traffic_shift=bool(data.get("trafficShift")),
            blue=ServiceSnapshot.from_dict(blue) if blue is not None else None,
            blue_desired_count=int(count) if count is not None else None,
            green=ServiceSnapshot.from_dict(data["green"]),
            green_action=data.get("greenAction"),
            deferred_scaling=Scaling.from_dict(deferred) if deferred is not None else None,
            swap_started=bool(data.get("swapStarted")),
            prod_swapped=bool(data.get("prodSwapped")),
            traffic_shift_started=bool(data.get("trafficShiftStarted")),
            standalone_rules=captured_rules(data),
            own_deployments=data.get(OWN_DEPLOYMENTS),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "cluster": self.cluster,
            "serviceName": self.service_name,
            "loadBalancer": self.load_balancer,
            "blueServiceName": self.blue_service_name,
            "greenServiceName": self.green_service_name,
            "prodRule": self.prod_rule.to_dict(),
            "prodActions": self.prod_actions,
            "stageRule": self.stage_rule.to_dict() if self.stage_rule is not None else None,
            "stageActions": self.stage_actions,
            "prodTargetGroupArn": self.prod_target_group_arn,
            "stageTargetGroupArn": self.stage_target_group_arn,
            "trafficShift": self.traffic_shift,
            "blue": self.blue.to_dict() if self.blue is not None else None,
            "blueDesiredCount": self.blue_desired_count,
            "green": self.green.to_dict(),
            "greenAction": self.green_action,
            "deferredScaling": self.deferred_scaling.to_dict() if self.deferred_scaling is not None else None,
        }
        # progress marks, written once reached (as earlier Corral wrote them)
        for key, reached in (
            ("swapStarted", self.swap_started),
            ("prodSwapped", self.prod_swapped),
            ("trafficShiftStarted", self.traffic_shift_started),
        ):
            if reached:
                data[key] = True
        if self.standalone_rules:
            data["standaloneRules"] = [rule.to_dict() for rule in self.standalone_rules]
        if self.own_deployments:
            data[OWN_DEPLOYMENTS] = self.own_deployments
        return data

    def to_journal(self, ctx: StepContext) -> dict[str, Any]:
        """The journal, with the deployments this execution started so far (a later step or a
        rollback does not wait for them)."""
        data = self.to_dict()
        if ctx.own.started or ctx.own.starting:
            data[OWN_DEPLOYMENTS] = ctx.own.to_dict()
        return data
