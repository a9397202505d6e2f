"""The whole AWS end state of a deployment, as the matrix compares it (normalised: normalise.py).

- every service of the cluster (ListServices: ACTIVE and DRAINING; a deleted one is absent) with
  its settings, tags and deployments (status, desired and running count, rollout state, Service
  Connect), the task definition each runs given by its content, not its revision number (a
  retried RegisterTaskDefinition may register the same content twice; what runs is the same);
- Application Auto Scaling of the ECS namespace: scalable targets, scaling policies and
  scheduled actions, by resource;
- every load balancer's listeners (by port) and their rules (by priority): conditions and
  actions, forward weights given by target group name;
- target registrations: for each target group, which service's running tasks sit in it, in
  which state (and how many targets no running task owns);
- Cloud Map: for each namespace and service, how many instances each ECS service registered.

Plain boto3 on the sandbox (the state is read as a person would read it, not through Corral).
"""

from __future__ import annotations

from typing import Any

from tests.ecs.support import SERVICE_FIELDS, EcsEnv

from .normalise import normalise

DEPLOYMENT_FIELDS = (
    "status",
    "desiredCount",
    "runningCount",
    "pendingCount",
    "rolloutState",
    "launchType",
    "serviceConnectConfiguration",
    "vpcLatticeConfigurations",
)
# what RegisterTaskDefinition adds besides the request: the revision's identity and time
TASK_DEFINITION_IDENTITY = ("taskDefinitionArn", "revision", "registeredAt", "registeredBy", "deregisteredAt")


def end_state(env: EcsEnv) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    groups = _target_group_names(env)
    state = {
        "services": _services(env, definitions),
        "autoscaling": _autoscaling(env),
        "listeners": _listeners(env, groups),
        "targets": _registrations(env, groups),
        "cloudMap": _cloud_map(env),
    }
    return dict(normalise(state))


def _task_definition(env: EcsEnv, arn: str, cache: dict[str, Any]) -> Any:
    if arn not in cache:
        found = env.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        cache[arn] = {k: v for k, v in found.items() if k not in TASK_DEFINITION_IDENTITY}
    return cache[arn]


def _services(env: EcsEnv, definitions: dict[str, Any]) -> dict[str, Any]:
    arns = [
        arn
        for page in env.ecs.get_paginator("list_services").paginate(cluster=env.cluster)
        for arn in page["serviceArns"]
    ]
    found: dict[str, Any] = {}
    for start in range(0, len(arns), 10):
        described = env.ecs.describe_services(
            cluster=env.cluster, services=arns[start : start + 10], include=["TAGS"]
        )["services"]
        for service in described:
            record = {k: service.get(k) for k in SERVICE_FIELDS}
            record["taskDefinition"] = _task_definition(env, service["taskDefinition"], definitions)
            record["tags"] = {t["key"]: t["value"] for t in service.get("tags") or []}
            record["deployments"] = sorted(
                (
                    {
                        **{k: d.get(k) for k in DEPLOYMENT_FIELDS},
                        "taskDefinition": _task_definition(env, d["taskDefinition"], definitions),
                    }
                    for d in service["deployments"]
                ),
                key=lambda d: (d["status"] != "PRIMARY", str(d["status"])),
            )
            found[service["serviceName"]] = record
    return dict(sorted(found.items()))


def _autoscaling(env: EcsEnv) -> dict[str, Any]:
    aas = env.autoscaling
    found: dict[str, Any] = {}

    def resource(rid: str) -> dict[str, Any]:
        return found.setdefault(rid, {"scalableTargets": [], "scalingPolicies": [], "scheduledActions": []})

    for page in aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="ecs"):
        for target in page["ScalableTargets"]:
            resource(target["ResourceId"])["scalableTargets"].append(_without(target, "ResourceId"))
    for page in aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="ecs"):
        for policy in page["ScalingPolicies"]:
            resource(policy["ResourceId"])["scalingPolicies"].append(_without(policy, "ResourceId"))
    for page in aas.get_paginator("describe_scheduled_actions").paginate(ServiceNamespace="ecs"):
        for action in page["ScheduledActions"]:
            resource(action["ResourceId"])["scheduledActions"].append(_without(action, "ResourceId"))
    for record in found.values():
        record["scalableTargets"].sort(key=lambda t: t["ScalableDimension"])
        record["scalingPolicies"].sort(key=lambda p: p["PolicyName"])
        record["scheduledActions"].sort(key=lambda a: a["ScheduledActionName"])
    return dict(sorted(found.items()))


def _without(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


def _target_group_names(env: EcsEnv) -> dict[str, str]:
    groups = env.elbv2.describe_target_groups()["TargetGroups"]
    return {g["TargetGroupArn"]: g["TargetGroupName"] for g in groups}


def _listeners(env: EcsEnv, groups: dict[str, str]) -> dict[str, Any]:
    elb = env.elbv2
    found: dict[str, Any] = {}
    for balancer in elb.describe_load_balancers()["LoadBalancers"]:
        listeners = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
        for listener in sorted(listeners, key=lambda item: item["Port"]):
            rules = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
            found[f"{balancer['LoadBalancerName']}:{listener['Port']}"] = {
                str(rule["Priority"]): {
                    "conditions": rule.get("Conditions") or [],
                    "actions": [_action(a, groups) for a in rule.get("Actions") or []],
                }
                for rule in rules
            }
    return found


def _action(action: dict[str, Any], groups: dict[str, str]) -> dict[str, Any]:
    """A rule action; a forward as {target group name: weight} (ELB reports a single-group
    forward both as TargetGroupArn and as a ForwardConfig of weight 1)."""
    if action.get("Type") != "forward":
        return action
    config = action.get("ForwardConfig") or {}
    weights = {
        groups.get(g["TargetGroupArn"], g["TargetGroupArn"]): g.get("Weight", 1)
        for g in config.get("TargetGroups") or []
    }
    if not weights and action.get("TargetGroupArn"):
        weights = {groups.get(action["TargetGroupArn"], action["TargetGroupArn"]): 1}
    return {"forward": dict(sorted(weights.items())), "stickiness": config.get("TargetGroupStickinessConfig")}


def _task_services(env: EcsEnv) -> dict[str, str]:
    """Task IP -> the service (task group) it belongs to, for running tasks (a target whose task
    has stopped shows as such: draining, or left behind)."""
    arns = [
        arn
        for page in env.ecs.get_paginator("list_tasks").paginate(cluster=env.cluster, desiredStatus="RUNNING")
        for arn in page["taskArns"]
    ]
    found: dict[str, str] = {}
    for start in range(0, len(arns), 100):
        for task in env.ecs.describe_tasks(cluster=env.cluster, tasks=arns[start : start + 100])["tasks"]:
            for attachment in task.get("attachments") or []:
                for detail in attachment.get("details") or []:
                    if detail["name"] == "privateIPv4Address":
                        found[detail["value"]] = str(task.get("group", "")).removeprefix("service:")
    return found


def _registrations(env: EcsEnv, groups: dict[str, str]) -> dict[str, Any]:
    owners = _task_services(env)
    found: dict[str, Any] = {}
    for arn, name in sorted(groups.items(), key=lambda item: item[1]):
        by_service: dict[str, dict[str, int]] = {}
        for health in env.elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            owner = owners.get(health["Target"]["Id"], "(no running task)")
            states = by_service.setdefault(owner, {})
            state = health["TargetHealth"]["State"]
            states[state] = states.get(state, 0) + 1
        found[name] = dict(sorted(by_service.items()))
    return found


def _cloud_map(env: EcsEnv) -> dict[str, Any]:
    sd = env.servicediscovery
    namespaces = {n["Id"]: n["Name"] for n in sd.list_namespaces()["Namespaces"]}
    found: dict[str, Any] = {}
    for service in sd.list_services()["Services"]:
        counts: dict[str, int] = {}
        for instance in sd.list_instances(ServiceId=service["Id"])["Instances"]:
            owner = (instance.get("Attributes") or {}).get("ECS_SERVICE_NAME", "(not ECS)")
            counts[owner] = counts.get(owner, 0) + 1
        namespace = namespaces.get(
            service.get("NamespaceId") or (service.get("DnsConfig") or {}).get("NamespaceId"), "?"
        )
        found[f"{namespace}/{service['Name']}"] = dict(sorted(counts.items()))
    return dict(sorted(found.items()))
