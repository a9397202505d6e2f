"""Describe output pasted as a manifest: wrappers and read-only members are left out, said once.

Shapes follow the AWS API reference's example responses of DescribeTaskDefinition,
DescribeServices, DescribeScalableTargets and DescribeScalingPolicies (written here).
"""

from __future__ import annotations

from typing import Any

from corral.errors import Problem
from corral.manifests import ManifestKind, check_manifest, to_api
from corral.manifests.pasted import read_only_fields

K = ManifestKind


def test_read_only_fields_come_from_botocores_output_shapes() -> None:
    task = read_only_fields(K.TASK_DEFINITION)
    assert {"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities"} <= set(task)
    assert {"registeredAt", "registeredBy", "deregisteredAt"} <= set(task)
    assert "family" not in task and "requiresCompatibilities" not in task
    service = read_only_fields(K.SERVICE_DEFINITION)
    assert {"serviceArn", "clusterArn", "status", "runningCount", "pendingCount", "deployments"} <= set(
        service
    )
    assert {"events", "createdAt", "createdBy", "taskSets", "roleArn", "platformFamily"} <= set(service)
    assert "loadBalancers" not in service and "deploymentConfiguration" not in service
    assert {"CreationTime", "ScalableTargetARN"} <= set(read_only_fields(K.SCALABLE_TARGET))
    assert {"PolicyARN", "Alarms", "CreationTime"} <= set(read_only_fields(K.SCALING_POLICY))
    assert read_only_fields(K.RUN_TASK_REQUEST) == []


def _task_output() -> dict[str, Any]:
    return {
        "taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4",
            "containerDefinitions": [
                {"name": "web", "image": "nginx", "cpu": 0, "memory": 128, "essential": True,
                 "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
                 "environment": [], "mountPoints": [], "volumesFrom": [], "systemControls": []}
            ],
            "family": "web",
            "revision": 4,
            "volumes": [],
            "status": "ACTIVE",
            "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
            "placementConstraints": [],
            "compatibilities": ["EXTERNAL", "EC2"],
            "registeredAt": "2026-11-30T10:00:00.000000+00:00",
            "registeredBy": "arn:aws:iam::123456789012:user/dev",
        },
        "tags": [{"key": "team", "value": "web"}],
    }  # fmt: skip


def test_a_pasted_task_definition_becomes_its_request_with_one_note() -> None:
    checked = check_manifest(K.TASK_DEFINITION, _task_output(), source="task.json")
    assert checked.problems == [] and checked.warnings == []
    assert checked.note is not None and checked.note.file == "task.json"
    assert checked.note.message == (
        "left out what `aws ecs describe-task-definition` returns and the request does not take: "
        "the 'taskDefinition' wrapper, taskDefinitionArn, revision, status, requiresAttributes, "
        "compatibilities, registeredAt, registeredBy"
    )
    request = to_api(K.TASK_DEFINITION, _task_output())
    assert set(request) == {"family", "containerDefinitions", "volumes", "placementConstraints", "tags"}
    assert request["tags"] == [{"key": "team", "value": "web"}]  # the wrapper's sibling


def test_problems_in_a_pasted_file_name_the_path_in_that_file() -> None:
    doc = _task_output()
    doc["taskDefinition"]["containerDefinitions"][0]["memory"] = "128"
    checked = check_manifest(K.TASK_DEFINITION, doc, source="task.json")
    assert checked.problems == [
        Problem(
            "task.json",
            "taskDefinition.containerDefinitions[0].memory",
            'expected an integer, got a string ("128")',
        )
    ]


def test_a_request_written_by_hand_has_no_note() -> None:
    checked = check_manifest(
        K.TASK_DEFINITION,
        {"family": "web", "containerDefinitions": [{"name": "a", "image": "b"}]},
        source="t",
    )
    assert checked.note is None and checked.problems == [] and checked.warnings == []


def _service(**members: Any) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
                "serviceName": "web",
                "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
                "loadBalancers": [],
                "serviceRegistries": [],
                "status": "ACTIVE",
                "desiredCount": 2,
                "runningCount": 2,
                "pendingCount": 0,
                "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4",
                "deploymentConfiguration": {
                    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
                    "maximumPercent": 200,
                    "minimumHealthyPercent": 100,
                },
                "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "COMPLETED"}],
                "roleArn": "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
                "events": [{"id": "e1", "createdAt": "2026-11-30T10:00:00Z", "message": "steady"}],
                "createdAt": "2026-11-30T09:00:00Z",
                "placementConstraints": [],
                "placementStrategy": [],
                "schedulingStrategy": "REPLICA",
                "deploymentController": {"type": "ECS"},
                "createdBy": "arn:aws:iam::123456789012:user/dev",
                "enableECSManagedTags": False,
                "propagateTags": "NONE",
                "enableExecuteCommand": False,
                **members,
            }
        ],
        "failures": [],
    }


def test_a_pasted_service_becomes_its_create_service_request() -> None:
    checked = check_manifest(K.SERVICE_DEFINITION, _service(launchType="EC2"), source="s.json")
    assert checked.problems == [] and checked.warnings == []
    assert checked.note is not None
    for name in ("the 'services' wrapper", "failures", "serviceArn", "clusterArn", "roleArn", "deployments"):
        assert name in checked.note.message
    request = to_api(K.SERVICE_DEFINITION, _service(launchType="EC2"))
    assert request["launchType"] == "EC2" and request["desiredCount"] == 2
    assert "role" not in request and "cluster" not in request and "deployments" not in request
    assert request["deploymentController"] == {"type": "ECS"}


def test_a_pasted_service_with_a_capacity_provider_strategy_leaves_the_launch_type_out() -> None:
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    doc = _service(launchType="FARGATE", capacityProviderStrategy=strategy)
    checked = check_manifest(K.SERVICE_DEFINITION, doc, source="s.json")
    assert checked.note is not None
    assert "launchType (the service uses capacityProviderStrategy)" in checked.note.message
    assert "launchType" not in to_api(K.SERVICE_DEFINITION, doc)


def test_a_pasted_daemon_service_leaves_its_desired_count_out() -> None:
    doc = _service(schedulingStrategy="DAEMON")
    assert "desiredCount" not in to_api(K.SERVICE_DEFINITION, doc)


def test_pasted_autoscaling_output() -> None:
    targets = {
        "ScalableTargets": [
            {
                "ServiceNamespace": "ecs",
                "ResourceId": "service/prod/web",
                "ScalableDimension": "ecs:service:DesiredCount",
                "MinCapacity": 1,
                "MaxCapacity": 10,
                "RoleARN": "arn:aws:iam::123456789012:role/autoscaling",
                "CreationTime": "2026-11-30T10:00:00Z",
                "SuspendedState": {
                    "DynamicScalingInSuspended": False,
                    "DynamicScalingOutSuspended": False,
                    "ScheduledScalingSuspended": False,
                },
                "ScalableTargetARN": "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/1",
            }
        ]
    }
    checked = check_manifest(K.SCALABLE_TARGET, targets, source="t.json")
    assert checked.problems == [] and checked.warnings == [] and checked.note is not None
    assert "CreationTime" not in to_api(K.SCALABLE_TARGET, targets)
    policies = {
        "ScalingPolicies": [
            {
                "PolicyARN": "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1",
                "PolicyName": "cpu75",
                "ServiceNamespace": "ecs",
                "ResourceId": "service/prod/web",
                "ScalableDimension": "ecs:service:DesiredCount",
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": 75.0,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                },
                "Alarms": [{"AlarmName": "high", "AlarmARN": "arn:aws:cloudwatch:us-east-1:1:alarm:high"}],
                "CreationTime": "2026-11-30T10:00:00Z",
            }
        ],
        "NextToken": None,
    }
    checked = check_manifest(K.SCALING_POLICY, policies, source="p.json")
    assert checked.problems == [] and checked.warnings == []
    request = to_api(K.SCALING_POLICY, policies)
    assert "Alarms" not in request and "PolicyARN" not in request and request["PolicyName"] == "cpu75"


def test_an_unknown_member_beside_the_wrapper_is_a_warning() -> None:
    doc = _task_output() | {"ResponseMetadata": {"RequestId": "x"}}
    checked = check_manifest(K.TASK_DEFINITION, doc, source="t.json")
    assert checked.problems == []
    assert checked.warnings == [
        Problem(
            "t.json",
            "ResponseMetadata",
            "unknown field 'ResponseMetadata' beside 'taskDefinition' (ignored: not sent to AWS)",
        )
    ]


def test_a_service_definition_with_platform_family_is_accepted_and_it_is_not_sent() -> None:
    # the case: Harness ignores platformFamily in a service definition; DescribeServices
    # returns it and CreateService does not take it
    doc = {"serviceName": "web", "desiredCount": 1, "platformFamily": "LINUX"}
    checked = check_manifest(K.SERVICE_DEFINITION, doc, source="s.yaml")
    assert checked.problems == [] and checked.warnings == []
    assert checked.note is not None and checked.note.message.endswith("take: platformFamily")
    assert to_api(K.SERVICE_DEFINITION, doc) == {"serviceName": "web", "desiredCount": 1}
