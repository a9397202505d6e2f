"""The AWS end state a test compares: services, tags, listener actions, target groups."""

from __future__ import annotations

from typing import Any

CLUSTER = "corral-demo"


def services(ecs: Any, cluster: str = CLUSTER) -> dict[str, dict[str, Any]]:
    """Every ACTIVE service of the cluster: task definition, desired and running counts, tags, target groups."""
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(arns), 10):
        described = ecs.describe_services(
            cluster=cluster, services=arns[start : start + 10], include=["TAGS"]
        )
        for service in described["services"]:
            if service["status"] != "ACTIVE":
                continue
            out[service["serviceName"]] = {
                "taskDefinition": service["taskDefinition"].rsplit("/", 1)[-1],
                "desiredCount": service["desiredCount"],
                "tags": {t["key"]: t["value"] for t in service.get("tags", [])},
                "targetGroups": sorted(lb["targetGroupArn"] for lb in service.get("loadBalancers", [])),
            }
    return out


def image_of(ecs: Any, task_definition: str) -> str:
    described = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return str(described["containerDefinitions"][0]["image"])


def listener_actions(elb: Any, *listeners: str) -> list[Any]:
    return [elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"] for arn in listeners]


def forward_group(actions: list[dict[str, Any]]) -> str:
    forward = next(a for a in actions if a["Type"] == "forward")
    if forward.get("TargetGroupArn"):
        return str(forward["TargetGroupArn"])
    groups = [g for g in forward["ForwardConfig"]["TargetGroups"] if g.get("Weight", 1)]
    assert len(groups) == 1, groups
    return str(groups[0]["TargetGroupArn"])


def healthy_targets(elb: Any, group: str) -> int:
    health = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sum(1 for h in health if h["TargetHealth"]["State"] == "healthy")


def journal_order(store: Any, execution_id: str) -> list[str]:
    """The identifiers of the steps in the order the journal says they finished (a StepFinished
    event's command id is `stage/group/step#attempt`)."""
    finished = store.journal(execution_id, kinds=["StepFinished"])
    return [(e.command_id or "").split("#")[0].rsplit("/", 1)[-1] for e in finished]
