"""What a finished deployment must have made, derived from what the steps were asked for (the
target's requests) and Harness's documented behaviour, not from a run of Corral: a clean run is
judged by these checks, and every faulted run is then compared with the clean run's whole end
state (end_state.py), so a step that leaves something undone fails even when it does so every time.
"""

from __future__ import annotations

from typing import Any

from corral.ecs.target import EcsTarget

DIMENSION = "ecs:service:DesiredCount"


def released_as_asked(
    state: dict[str, Any], cluster: str, target: EcsTarget, name: str | None = None
) -> list[str]:
    """Service `name` (default: the target's) runs the target's containers with its desired count
    and tags, steady, and carries exactly the target's autoscaling."""
    name = name or target.service_name
    service = state["services"].get(name)
    if service is None:
        return [f"service {name} is missing"]
    problems = []
    wanted_definition = target.task_definition or {}
    wanted_images = sorted(c["image"] for c in wanted_definition.get("containerDefinitions") or [])
    images = sorted(c["image"] for c in service["taskDefinition"].get("containerDefinitions") or [])
    if images != wanted_images:
        problems.append(f"{name} runs {images}, not {wanted_images}")
    wanted_count = (target.service_definition or {}).get("desiredCount")
    if wanted_count is not None and service["desiredCount"] != wanted_count:
        problems.append(f"{name} wants {service['desiredCount']} tasks, not {wanted_count}")
    deployments = [(d["status"], d["rolloutState"]) for d in service["deployments"]]
    if deployments != [("PRIMARY", "COMPLETED")] or service["runningCount"] != service["desiredCount"]:
        problems.append(
            f"{name} is not steady: {deployments}, {service['runningCount']}/{service['desiredCount']}"
        )
    for tag in (target.service_definition or {}).get("tags") or []:
        if service["tags"].get(tag["key"]) != tag["value"]:
            problems.append(f"{name} is not tagged {tag['key']}={tag['value']}")
    problems += autoscaling_as_asked(state, cluster, name, target)
    return problems


def autoscaling_as_asked(state: dict[str, Any], cluster: str, name: str, target: EcsTarget) -> list[str]:
    found = state["autoscaling"].get(f"service/{cluster}/{name}") or {
        "scalableTargets": [],
        "scalingPolicies": [],
        "scheduledActions": [],
    }
    problems = []
    targets = sorted(
        (t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in found["scalableTargets"]
    )
    wanted_targets = sorted(
        (t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in target.scalable_targets
    )
    if targets != wanted_targets:
        problems.append(f"{name} has scalable targets {targets}, not {wanted_targets}")
    policies = sorted((p["PolicyName"], p["PolicyType"]) for p in found["scalingPolicies"])
    wanted_policies = sorted((p["PolicyName"], p["PolicyType"]) for p in target.scaling_policies)
    if policies != wanted_policies:
        problems.append(f"{name} has scaling policies {policies}, not {wanted_policies}")
    actions = sorted((a["ScheduledActionName"], a["Schedule"]) for a in found["scheduledActions"])
    wanted_actions = sorted((a["ScheduledActionName"], a["Schedule"]) for a in target.scheduled_actions)
    if actions != wanted_actions:
        problems.append(f"{name} has scheduled actions {actions}, not {wanted_actions}")
    return problems


def downsized(state: dict[str, Any], cluster: str, name: str, *, version: str | None = "GREEN") -> list[str]:
    """Harness's Swap / Traffic Shift cut-over (and Basic's last phase): the old service is kept,
    at 0 tasks, without autoscaling (and retagged `version`)."""
    service = state["services"].get(name)
    if service is None:
        return [f"the old service {name} is missing (it is kept at 0)"]
    problems = []
    if service["desiredCount"] != 0 or service["runningCount"] != 0:
        problems.append(
            f"the old service {name} runs {service['runningCount']}/{service['desiredCount']} tasks, not 0"
        )
    if version is not None and service["tags"].get("BG_VERSION") != version:
        problems.append(
            f"the old service {name} is tagged {service['tags'].get('BG_VERSION')}, not {version}"
        )
    scaling = state["autoscaling"].get(f"service/{cluster}/{name}")
    if scaling and any(scaling.values()):
        problems.append(f"the old service {name} keeps its autoscaling")
    return problems


def forwards(state: dict[str, Any], listener: str, priority: str = "default") -> dict[str, int]:
    """Where a listener's rule forwards, by target group name (`listener`: `<lb name>:<port>`)."""
    actions = state["listeners"][listener][priority]["actions"]
    return next((a["forward"] for a in actions if "forward" in a), {})


def in_group(state: dict[str, Any], group: str) -> dict[str, Any]:
    """Which services' tasks sit in a target group (by name), by state."""
    return dict(state["targets"].get(group) or {})
