"""Which Blue Green service is live, and where traffic goes: a pure decision, no AWS.

    plan = plan_layout("web", Found(services={"web__1": ..., "web__2": None}, prod_actions=..., stage_actions=...))
    plan.blue, plan.green, plan.prod_group, plan.stage_group

- Services are `<name>__1` and `<name>__2`, tagged `BG_VERSION=BLUE|GREEN`.
- **BLUE is decided by traffic**: the service registered in the target group the prod rule
  forwards to. Tags that disagree are repaired (`retag`), as are listeners an interrupted swap left
  pointing at one target group, or production traffic an interrupted traffic shift left split.
- A stage target group the live service uses is refused (the reference deletes the live service).

Create Service (create_service.py) and `corral plan` (cli/plan_cmd.py) both decide here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corral.errors import DeploymentError

from ..listeners import Actions, describe_weights, forward_weights, live_groups, short_arn, with_forward

TAG = "BG_VERSION"
BLUE = "BLUE"
GREEN = "GREEN"
SUFFIXES = ("__1", "__2")


def pair_names(service_name: str) -> list[str]:
    return [service_name + suffix for suffix in SUFFIXES]


@dataclass
class Found:
    """What was read before changing anything."""

    services: dict[str, dict[str, Any] | None]  # <name>__1, <name>__2 -> description, None if MISSING
    prod_actions: Actions
    stage_actions: Actions | None  # None in the traffic shift flow
    traffic_shift: bool = False
    stage_group: str = ""  # given for the traffic shift flow (stageTargetGroupArn)


@dataclass
class Plan:
    """Which service is which and where traffic goes, once half states are repaired."""

    blue: str | None  # the service production traffic reaches; None on a first deployment
    green: str  # the stage service this deployment (re)creates
    prod_group: str
    stage_group: str
    prod_actions: Actions  # after repairs: what rollback restores
    stage_actions: Actions | None
    prepared_prod_actions: Actions  # what Create Service writes (traffic shift: stage group added at 0)
    retag: dict[str, str] = field(default_factory=dict)  # service -> BG_VERSION it must carry
    findings: list[str] = field(default_factory=list)  # half states found, each with its repair


def is_active(service: dict[str, Any] | None) -> bool:
    return service is not None and service.get("status") == "ACTIVE"


def target_groups_of(service: dict[str, Any] | None) -> list[str]:
    return [
        lb["targetGroupArn"] for lb in (service or {}).get("loadBalancers", []) if lb.get("targetGroupArn")
    ]


def version_tag(service: dict[str, Any] | None) -> str | None:
    tags = (service or {}).get("tags") or []
    return next((str(t.get("value", "")) for t in tags if t.get("key") == TAG), None)


def plan_layout(name: str, found: Found) -> Plan:
    """Decide BLUE, GREEN and the target groups from what was found.

    Raises DeploymentError for a layout that cannot be repaired safely, and whenever the stage
    target group is one the live service is registered in.
    """
    names = pair_names(name)
    active = {n: s for n in names if (s := found.services.get(n)) is not None and is_active(s)}
    findings: list[str] = []

    prod_actions, prod_group = _production_group(found, active, findings)
    serving = [n for n in names if n in active and prod_group in target_groups_of(active[n])]
    if len(serving) > 1:
        raise DeploymentError(
            f"Both {serving[0]} and {serving[1]} are registered in the production target group "
            f"{prod_group}: there is no stage service that production traffic does not reach. "
            "Remove one of them from the target group by hand and run again."
        )
    blue = serving[0] if serving else None
    green = names[1] if blue == names[0] else names[0]
    retag = _tag_repairs(blue, green, active, findings)
    stage_actions, stage_group, prepared = _stage_group(found, prod_actions, prod_group, green, findings)
    if blue is not None and stage_group in target_groups_of(active[blue]):
        raise DeploymentError(
            f"The stage target group {stage_group} is used by {blue}, the live (BLUE) service that "
            f"production traffic reaches through {prod_group}. Deploying to it would replace the live "
            "service; use the other target group as the stage target group."
        )
    return Plan(blue, green, prod_group, stage_group, prod_actions, stage_actions, prepared, retag, findings)


def _production_group(
    found: Found, active: dict[str, dict[str, Any]], findings: list[str]
) -> tuple[Actions, str]:
    weights = forward_weights(found.prod_actions)
    if not weights:
        raise DeploymentError("The production listener rule does not forward to a target group")
    live = live_groups(found.prod_actions)
    if not live:
        raise DeploymentError(
            f"The production listener rule sends no traffic anywhere ({describe_weights(weights)})"
        )
    if len(live) == 1:
        return found.prod_actions, live[0]
    # An interrupted traffic shift leaves production traffic split: it all goes back to BLUE.
    tagged_blue = [
        g for g in live for s in active.values() if version_tag(s) == BLUE and g in target_groups_of(s)
    ]
    prod_group = tagged_blue[0] if tagged_blue else max(live, key=lambda g: weights[g])
    repaired = (
        {g: (100 if g == prod_group else 0) for g in weights} if found.traffic_shift else {prod_group: 1}
    )
    findings.append(
        f"Production traffic is split ({describe_weights(weights)}), as an interrupted traffic shift "
        f"leaves it: all of it goes to {short_arn(prod_group)}"
        + (" (the BLUE service's)" if tagged_blue else " (the largest share)")
    )
    return with_forward(found.prod_actions, repaired), prod_group


def _tag_repairs(
    blue: str | None, green: str, active: dict[str, dict[str, Any]], findings: list[str]
) -> dict[str, str]:
    retag = {}
    if blue is not None and version_tag(active[blue]) != BLUE:
        retag[blue] = BLUE
        findings.append(
            f"{blue} serves production traffic but is tagged {TAG}={version_tag(active[blue]) or '(none)'}: "
            "it is the BLUE service"
        )
    if green in active and version_tag(active[green]) == BLUE:
        retag[green] = GREEN
        findings.append(f"{green} is tagged {TAG}=BLUE but production traffic does not reach it: it is GREEN")
    return retag


def _stage_group(
    found: Found, prod_actions: Actions, prod_group: str, green: str, findings: list[str]
) -> tuple[Actions | None, str, Actions]:
    """(stage actions after repair, stage target group, prod actions Create Service writes)."""
    if found.traffic_shift:
        weights = forward_weights(prod_actions)
        others = [g for g in weights if g != prod_group]
        stage_group = found.stage_group or (others[0] if len(others) == 1 else "")
        if not stage_group:
            raise DeploymentError(
                f"The production listener rule forwards to {describe_weights(weights)}: give the stage "
                "target group (stageTargetGroupArn), the one that does not serve production"
            )
        prepared = prod_actions
        if stage_group not in weights:
            prepared = with_forward(prod_actions, {**weights, stage_group: 0})
        return None, stage_group, prepared
    stage_actions = found.stage_actions or []
    stage_live = live_groups(stage_actions)
    if len(stage_live) != 1:
        raise DeploymentError(
            "The stage listener rule must forward to exactly one target group; it forwards to "
            f"{describe_weights(forward_weights(stage_actions)) or 'none'}"
        )
    stage_group = stage_live[0]
    if stage_group == prod_group:
        other = [g for g in target_groups_of(found.services.get(green)) if g != prod_group]
        if not other:
            raise DeploymentError(
                f"The prod and stage listeners both forward to {prod_group}, as an interrupted swap leaves "
                "them, and no other target group is known. Point the stage listener at the stage "
                "target group and run again."
            )
        stage_group = other[0]
        stage_actions = with_forward(stage_actions, {stage_group: 1})
        findings.append(
            f"The prod and stage listeners both forward to {short_arn(prod_group)}, as an interrupted swap "
            f"leaves them: the stage listener goes back to {short_arn(stage_group)}"
        )
    return stage_actions, stage_group, prod_actions
