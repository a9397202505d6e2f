"""Shape validation: every problem at once, each with the path and what was expected."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from corral.errors import ConfigError, Problem
from corral.manifests import ManifestKind, check_manifest, validate_manifest

K = ManifestKind


def task(**members: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx"}]}
    return base | members


def web(**members: Any) -> dict[str, Any]:
    """A task definition whose only container has the given members."""
    return task(containerDefinitions=[{"name": "web", "image": "nginx", **members}])


def service(**members: Any) -> dict[str, Any]:
    return {"serviceName": "myapp"} | members


# (kind, manifest, path, message): each manifest has exactly this one problem.
BAD = [
    (K.TASK_DEFINITION, {"family": "web", "containerDefinitons": [{"name": "web", "image": "nginx"}]},
     "containerDefinitons", "unknown field 'containerDefinitons'; did you mean 'containerDefinitions'?"),
    (K.TASK_DEFINITION, task(containerDefinitions=[{"nmae": "web", "image": "nginx"}]),
     "containerDefinitions[0].nmae", "unknown field 'nmae'; did you mean 'name'?"),
    (K.TASK_DEFINITION, web(portMappings=[{"containerPort": "80"}]),
     "containerDefinitions[0].portMappings[0].containerPort", 'expected an integer, got a string ("80")'),
    (K.TASK_DEFINITION, task(cpu=256),
     "cpu", "expected a string, got a number (256); quote it to make it a string"),
    (K.TASK_DEFINITION, web(essential="yes"),
     "containerDefinitions[0].essential", 'expected true or false, got a string ("yes")'),
    (K.TASK_DEFINITION, web(essential=1),
     "containerDefinitions[0].essential", "expected true or false, got a number (1)"),
    (K.TASK_DEFINITION, task(networkMode="awsvpcc"),
     "networkMode", "expected one of bridge, host, awsvpc, none; got 'awsvpcc'"),
    (K.TASK_DEFINITION, task(requiresCompatibilities=["fargate"]),
     "requiresCompatibilities[0]",
     "expected one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES; got 'fargate'; did you mean 'FARGATE'?"),
    (K.TASK_DEFINITION, task(requiresCompatibilities="FARGATE"),
     "requiresCompatibilities", 'expected a list, got a string ("FARGATE")'),
    (K.TASK_DEFINITION, {"containerDefinitions": [{"name": "web", "image": "nginx"}]},
     "family", "missing required field 'family'"),
    (K.TASK_DEFINITION, task(family=None), "family", "missing required field 'family'"),
    (K.TASK_DEFINITION, task(containerDefinitions=[{"image": "nginx"}]),
     "containerDefinitions[0].name", "missing required field 'name'"),
    (K.TASK_DEFINITION, task(containerDefinitions=[]),
     "containerDefinitions", "must have at least 1 item(s), got 0"),
    (K.TASK_DEFINITION, web(healthCheck={"command": ["CMD", "true"], "interval": 1}),
     "containerDefinitions[0].healthCheck.interval", "must be at least 5, got 1"),
    (K.TASK_DEFINITION, web(healthCheck={"interval": 30}),
     "containerDefinitions[0].healthCheck.command", "missing required field 'command'"),
    (K.TASK_DEFINITION, web(portMappings=[{"containerPort": 70000}]),
     "containerDefinitions[0].portMappings[0].containerPort", "must be at most 65535, got 70000"),
    (K.TASK_DEFINITION, web(dockerLabels={"version": 1.5}),
     "containerDefinitions[0].dockerLabels.version",
     "expected a string, got a number (1.5); quote it to make it a string"),
    (K.TASK_DEFINITION, web(environment=[{"name": "RELEASED", "value": dt.date(2024, 5, 1)}]),
     "containerDefinitions[0].environment[0].value",
     "expected a string, got a date (2024-05-01); quote it to make it a string"),
    (K.TASK_DEFINITION, web(image="<+artifact.image>"),
     "containerDefinitions[0].image", "unresolved expression <+artifact.image>"),
    (K.TASK_DEFINITION, task(executionRoleArn="${EXECUTION_ROLE}"),
     "executionRoleArn", "unresolved expression ${EXECUTION_ROLE}"),
    (K.TASK_DEFINITION, web(portMappings=[{"containerPort": "<+serviceVariables.port>"}]),
     "containerDefinitions[0].portMappings[0].containerPort",
     "unresolved expression <+serviceVariables.port>"),
    (K.TASK_DEFINITION, task(tags=[{"key": "team", "value": "a" * 257}]),
     "tags[0].value", "must have at most 256 character(s), got 257"),
    (K.TASK_DEFINITION, ["family", "web"], "", "expected an object at the top level, got a list"),
    (K.SERVICE_DEFINITION, {"desiredCount": 1}, "serviceName", "missing required field 'serviceName'"),
    (K.SERVICE_DEFINITION, service(launchType="FARGATEE"), "launchType",
     "expected one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES; got 'FARGATEE'"),
    (K.SERVICE_DEFINITION, service(desiredCount=-1), "desiredCount", "must be at least 0, got -1"),
    (K.SERVICE_DEFINITION, service(deploymentConfiguration={"minimumHealthyPercent": 150}),
     "deploymentConfiguration.minimumHealthyPercent", "must be at most 100, got 150"),
    (K.SERVICE_DEFINITION, service(networkConfiguration={"awsvpcConfiguration": {"securityGroups": ["sg-1"]}}),
     "networkConfiguration.awsvpcConfiguration.subnets", "missing required field 'subnets'"),
    (K.SERVICE_DEFINITION, service(serviceName="<+service.name>-api"),
     "serviceName", "unresolved expression <+service.name>"),
    (K.SERVICE_DEFINITION, service(tags=[{"key": "tg", "value": "<+targetGroupArn>"}]),
     "tags[0].value", "unresolved expression <+targetGroupArn>"),
    (K.SERVICE_DEFINITION, service(serviceName="a", ServiceName="b"),
     "ServiceName", "'serviceName' is given twice (as 'serviceName' and 'ServiceName')"),
    (K.SCALABLE_TARGET, {"minCapacity": 5, "maxCapacity": 2},
     "minCapacity", "must not be greater than maxCapacity (2), got 5"),
    (K.SCALING_POLICY, {"policyName": "P1", "policyType": "TargetTracking"},
     "policyType", "expected one of StepScaling, TargetTrackingScaling, PredictiveScaling; got 'TargetTracking'"),
    (K.SCALING_POLICY, {"policyName": ""}, "policyName", "must have at least 1 character(s), got 0"),
    (K.SCALING_POLICY,
     {"policyName": "P1", "targetTrackingScalingPolicyConfiguration": {"targetValue": "60"}},
     "targetTrackingScalingPolicyConfiguration.targetValue", 'expected a number, got a string ("60")'),
    (K.RUN_TASK_REQUEST, {"count": 11}, "count", "must be at most 10, got 11"),
    (K.RUN_TASK_REQUEST, {"count": 0}, "count", "must be at least 1, got 0"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "doc", "path", "message"), BAD, ids=[f"{b[0].name}-{b[2]}" for b in BAD])
def test_bad_manifest(kind: ManifestKind, doc: Any, path: str, message: str) -> None:
    assert validate_manifest(kind, doc, source="m.yaml") == [Problem("m.yaml", path, message)]


def test_all_problems_are_reported_in_document_order() -> None:
    doc = {
        "famly": "web",
        "containerDefinitions": [
            {"name": "web", "image": "nginx", "portMappings": [{"containerPort": "80", "protocol": "TCP"}]},
            {"name": "log", "memory": "128"},
        ],
        "cpu": 256,
    }
    problems = validate_manifest(K.TASK_DEFINITION, doc, source="files/task.yaml")
    assert [str(p) for p in problems] == [
        "files/task.yaml: famly: unknown field 'famly'; did you mean 'family'?",
        'files/task.yaml: containerDefinitions[0].portMappings[0].containerPort: expected an integer, got a string ("80")',
        "files/task.yaml: containerDefinitions[0].portMappings[0].protocol: expected one of tcp, udp; got 'TCP'; did you mean 'tcp'?",
        'files/task.yaml: containerDefinitions[1].memory: expected an integer, got a string ("128")',
        "files/task.yaml: containerDefinitions[1].image: missing required field 'image'",
        "files/task.yaml: cpu: expected a string, got a number (256); quote it to make it a string",
    ]  # fmt: skip


# (kind, manifest, path, message): each manifest has exactly this one warning and no error.
UNKNOWN = [
    (K.TASK_DEFINITION, web(portMappings=[{"contanerPort": 80}]),
     "containerDefinitions[0].portMappings[0].contanerPort",
     "unknown field 'contanerPort'; did you mean 'containerPort'? (ignored: not sent to AWS)"),
    (K.SCALABLE_TARGET, {"minCapacity": 1, "maxCapacity": 3, "roleArn": "arn:aws:iam::1:role/r"},
     "roleArn", "unknown field 'roleArn'; did you mean 'roleARN'? (ignored: not sent to AWS)"),
    (K.SCALABLE_TARGET, {"xyzzy": 1}, "xyzzy",
     "unknown field 'xyzzy' (ignored: not sent to AWS); expected one of: serviceNamespace, resourceId, "
     "scalableDimension, minCapacity, maxCapacity, roleARN, suspendedState, tags"),
    # suggestions follow the author's casing
    (K.SCALING_POLICY, {"PolicyName": "P1", "PolicyTyp": "StepScaling"}, "PolicyTyp",
     "unknown field 'PolicyTyp'; did you mean 'PolicyType'? (ignored: not sent to AWS)"),
    # a typo of a member the deploy fills in is not a missing member: a warning
    (K.SERVICE_DEFINITION, service(clustr="prod"), "clustr",
     "unknown field 'clustr'; did you mean 'cluster'? (ignored: not sent to AWS)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "doc", "path", "message"), UNKNOWN, ids=[f"{u[0].name}-{u[2]}" for u in UNKNOWN]
)
def test_unknown_fields_are_warnings(kind: ManifestKind, doc: Any, path: str, message: str) -> None:
    checked = check_manifest(kind, doc, source="m.yaml")
    assert checked.problems == []
    assert checked.warnings == [Problem("m.yaml", path, message)]
    assert validate_manifest(kind, doc, source="m.yaml") == []


def test_target_group_placeholder_is_allowed_only_in_load_balancers() -> None:
    doc = {
        "serviceName": "myapp",
        "loadBalancers": [{"targetGroupArn": "<+targetGroupArn>", "containerName": "web"}],
    }
    assert validate_manifest(K.SERVICE_DEFINITION, doc, source="s") == []
    task_doc = task(taskRoleArn="<+targetGroupArn>")
    [problem] = validate_manifest(K.TASK_DEFINITION, task_doc, source="t")
    assert problem.message == "unresolved expression <+targetGroupArn>"


def test_members_filled_at_deploy_time_may_be_left_out() -> None:
    assert validate_manifest(K.RUN_TASK_REQUEST, {"count": 1}, source="r") == []
    assert validate_manifest(K.SCALABLE_TARGET, {"minCapacity": 1, "maxCapacity": 2}, source="t") == []
    assert validate_manifest(K.SCALING_POLICY, {"policyName": "P1"}, source="p") == []


def test_yaml_nulls_count_as_absent_except_in_lists() -> None:
    assert validate_manifest(K.TASK_DEFINITION, task(ipcMode=None, volumes=None), source="t") == []
    [problem] = validate_manifest(K.TASK_DEFINITION, task(requiresCompatibilities=[None]), source="t")
    assert problem == Problem("t", "requiresCompatibilities[0]", "expected a string, got null")


def test_kind_may_be_given_by_its_yaml_name() -> None:
    assert validate_manifest("EcsScalableTargetDefinition", {"minCapacity": 1}, source="t") == []


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown manifest kind 'EcsTaskDef'"):
        validate_manifest("EcsTaskDef", {}, source="t")


def test_config_error_renders_every_problem() -> None:
    problems = validate_manifest(K.TASK_DEFINITION, {"cpu": 1}, source="task.yaml")
    text = str(ConfigError(problems))
    assert text.splitlines()[0] == "3 problem(s) found:"
    assert "task.yaml: family: missing required field 'family'" in text
