"""Application Auto Scaling emulation: scalable targets, policies, alarms, activities, tags, ECS scaling."""

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox
from corral.sandbox.client import SandboxAdminError
from corral.sandbox.core.world import DEFAULT_ACCOUNT

DIMENSION = "ecs:service:DesiredCount"
CPU_TRACKING = {
    "TargetValue": 60.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    "ScaleInCooldown": 120,
    "ScaleOutCooldown": 30,
}
STEP_CONFIG = {
    "AdjustmentType": "ChangeInCapacity",
    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 2}],
    "Cooldown": 60,
}


@pytest.fixture
def aas(sandbox: Sandbox) -> Any:
    return sandbox.client("application-autoscaling")


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def register(aas: Any, resource_id: str = "service/apps/web", **extra: Any) -> str:
    extra.setdefault("MinCapacity", 1)
    extra.setdefault("MaxCapacity", 4)
    return aas.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION, **extra
    )["ScalableTargetARN"]


def put_policy(
    aas: Any, name: str = "cpu", resource_id: str = "service/apps/web", **extra: Any
) -> dict[str, Any]:
    if "PolicyType" not in extra:
        extra["PolicyType"] = "TargetTrackingScaling"
        extra["TargetTrackingScalingPolicyConfiguration"] = CPU_TRACKING
    return aas.put_scaling_policy(
        PolicyName=name, ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION, **extra
    )


def the_target(aas: Any, resource_id: str = "service/apps/web") -> dict[str, Any]:
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    return target


@pytest.fixture
def ecs_service(sandbox: Sandbox) -> None:
    """An ECS service `service/apps/web` (autoscaling asks ECS that the service exists)."""
    create_ecs_service(sandbox, "apps", "web", desired=2)


def create_ecs_service(sandbox: Sandbox, cluster: str, name: str, *, desired: int) -> Any:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": "app", "image": "web:1", "memory": 128, "essential": True}],
    )
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=name, desiredCount=desired)
    return ecs


# ---------------------------------------------------------------------- scalable targets


def test_register_and_describe_a_target(aas: Any, ecs_service: None) -> None:
    arn = register(aas, MinCapacity=1, MaxCapacity=4)
    assert re.fullmatch(
        rf"arn:aws:application-autoscaling:us-east-1:{DEFAULT_ACCOUNT}:scalable-target/\w+", arn
    )
    target = the_target(aas)
    assert target["ScalableTargetARN"] == arn
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert target["RoleARN"] == (
        f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    )
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    assert target["CreationTime"]


def test_registering_again_updates_only_the_given_fields(aas: Any, ecs_service: None) -> None:
    arn = register(aas, MinCapacity=1, MaxCapacity=4)
    again = aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/apps/web",
        ScalableDimension=DIMENSION,
        MaxCapacity=8,
        SuspendedState={"DynamicScalingInSuspended": True},
    )
    assert again["ScalableTargetARN"] == arn
    target = the_target(aas)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 8)
    assert target["SuspendedState"]["DynamicScalingInSuspended"] is True
    assert target["SuspendedState"]["DynamicScalingOutSuspended"] is False


def test_register_validation(aas: Any, ecs_service: None) -> None:
    with pytest.raises(ClientError) as no_capacity:
        aas.register_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/apps/web", ScalableDimension=DIMENSION, MinCapacity=1
        )
    assert error_code(no_capacity) == "ValidationException"
    with pytest.raises(ClientError) as inverted:
        register(aas, MinCapacity=5, MaxCapacity=2)
    assert error_code(inverted) == "ValidationException"
    with pytest.raises(ClientError) as bad_id:
        register(aas, "apps/web")
    assert error_code(bad_id) == "ValidationException"
    with pytest.raises(ClientError) as bad_dimension:
        aas.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/apps/web",
            ScalableDimension="dynamodb:table:ReadCapacityUnits",
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert error_code(bad_dimension) == "ValidationException"


def test_other_namespaces_are_accepted_without_checks(aas: Any) -> None:
    aas.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
    )
    (target,) = aas.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert target["ResourceId"] == "table/orders"
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []


def test_describe_targets_filters_and_pages(sandbox: Sandbox, aas: Any) -> None:
    names = ["a", "b", "c"]
    for name in names:
        create_ecs_service(sandbox, "apps", name, desired=1)
    for name in names:
        register(aas, f"service/apps/{name}")
    chosen = aas.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=["service/apps/a", "service/apps/c"], ScalableDimension=DIMENSION
    )
    assert [t["ResourceId"] for t in chosen["ScalableTargets"]] == ["service/apps/a", "service/apps/c"]
    first = aas.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=2)
    assert len(first["ScalableTargets"]) == 2 and first["NextToken"]
    rest = aas.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=2, NextToken=first["NextToken"])
    assert [t["ResourceId"] for t in rest["ScalableTargets"]] == ["service/apps/c"]
    assert "NextToken" not in rest
    pages = aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="ecs", MaxResults=1)
    assert [t["ResourceId"] for p in pages for t in p["ScalableTargets"]] == [
        f"service/apps/{n}" for n in names
    ]
    with pytest.raises(ClientError) as bad_token:
        aas.describe_scalable_targets(ServiceNamespace="ecs", NextToken="garbage")
    assert error_code(bad_token) == "InvalidNextTokenException"


def test_deregister_removes_the_target_its_policies_and_their_alarms(
    sandbox: Sandbox, aas: Any, ecs_service: None
) -> None:
    register(aas)
    alarms = put_policy(aas)["Alarms"]
    put_policy(aas, "steps", PolicyType="StepScaling", StepScalingPolicyConfiguration=STEP_CONFIG)
    cloudwatch = sandbox.client("cloudwatch")
    alarm_names = [alarm["AlarmName"] for alarm in alarms]
    assert len(cloudwatch.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"]) == 2
    aas.deregister_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/apps/web", ScalableDimension=DIMENSION
    )
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    assert cloudwatch.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"] == []
    with pytest.raises(ClientError) as missing:
        aas.deregister_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/apps/web", ScalableDimension=DIMENSION
        )
    assert error_code(missing) == "ObjectNotFoundException"
    assert "service/apps/web" in missing.value.response["Error"]["Message"]


# ---------------------------------------------------------------------- scaling policies


def test_target_tracking_policy_creates_its_alarms(sandbox: Sandbox, aas: Any, ecs_service: None) -> None:
    register(aas)
    created = put_policy(aas, "cpu60")
    assert re.fullmatch(
        rf"arn:aws:autoscaling:us-east-1:{DEFAULT_ACCOUNT}:scalingPolicy:[0-9a-f-]{{36}}:"
        r"resource/ecs/service/apps/web:policyName/cpu60",
        created["PolicyARN"],
    )
    high, low = created["Alarms"]
    assert re.fullmatch(r"TargetTracking-service/apps/web-AlarmHigh-[0-9a-f-]{36}", high["AlarmName"])
    assert re.fullmatch(r"TargetTracking-service/apps/web-AlarmLow-[0-9a-f-]{36}", low["AlarmName"])
    assert high["AlarmARN"] == f"arn:aws:cloudwatch:us-east-1:{DEFAULT_ACCOUNT}:alarm:{high['AlarmName']}"
    cloudwatch = sandbox.client("cloudwatch")
    stored = {
        a["AlarmName"]: a
        for a in cloudwatch.describe_alarms(AlarmNames=[high["AlarmName"], low["AlarmName"]])["MetricAlarms"]
    }
    assert stored[high["AlarmName"]]["MetricName"] == "CPUUtilization"
    assert stored[high["AlarmName"]]["Threshold"] == 60.0
    assert stored[high["AlarmName"]]["AlarmActions"] == [created["PolicyARN"]]
    assert stored[low["AlarmName"]]["Threshold"] == pytest.approx(54.0)
    assert {d["Name"]: d["Value"] for d in stored[low["AlarmName"]]["Dimensions"]} == {
        "ClusterName": "apps",
        "ServiceName": "web",
    }
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"] == CPU_TRACKING
    assert policy["Alarms"] == created["Alarms"]


def test_disabled_scale_in_has_only_the_high_alarm(aas: Any, ecs_service: None) -> None:
    register(aas)
    created = put_policy(
        aas,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={**CPU_TRACKING, "DisableScaleIn": True},
    )
    assert [("AlarmHigh" in a["AlarmName"]) for a in created["Alarms"]] == [True]


def test_step_and_predictive_policies(aas: Any, ecs_service: None) -> None:
    register(aas)
    step = put_policy(aas, "steps", PolicyType="StepScaling", StepScalingPolicyConfiguration=STEP_CONFIG)
    assert step["Alarms"] == [], "step scaling uses alarms the user creates"
    put_policy(
        aas,
        "forecast",
        PolicyType="PredictiveScaling",
        PredictiveScalingPolicyConfiguration={
            "MetricSpecifications": [
                {
                    "TargetValue": 50.0,
                    "PredefinedMetricPairSpecification": {"PredefinedMetricType": "ECSServiceCPUUtilization"},
                }
            ],
            "Mode": "ForecastOnly",
        },
    )
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert {p["PolicyName"]: p["PolicyType"] for p in policies} == {
        "steps": "StepScaling",
        "forecast": "PredictiveScaling",
    }
    steps = next(p for p in policies if p["PolicyName"] == "steps")
    assert steps["StepScalingPolicyConfiguration"]["StepAdjustments"][0]["ScalingAdjustment"] == 2


def test_putting_a_policy_again_by_name_updates_it(sandbox: Sandbox, aas: Any, ecs_service: None) -> None:
    register(aas)
    first = put_policy(aas, "cpu")
    second = put_policy(
        aas,
        "cpu",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={**CPU_TRACKING, "TargetValue": 75.0},
    )
    assert second["PolicyARN"] == first["PolicyARN"]
    assert [a["AlarmName"] for a in second["Alarms"]] == [a["AlarmName"] for a in first["Alarms"]]
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 75.0
    high = sandbox.client("cloudwatch").describe_alarms(AlarmNames=[second["Alarms"][0]["AlarmName"]])
    assert high["MetricAlarms"][0]["Threshold"] == 75.0


def test_policy_errors(aas: Any, ecs_service: None) -> None:
    with pytest.raises(ClientError) as no_target:
        put_policy(aas)
    assert error_code(no_target) == "ObjectNotFoundException"
    register(aas)
    with pytest.raises(ClientError) as wrong_config:
        put_policy(aas, PolicyType="TargetTrackingScaling", StepScalingPolicyConfiguration=STEP_CONFIG)
    assert error_code(wrong_config) == "ValidationException"
    with pytest.raises(ClientError) as wrong_metric:
        put_policy(
            aas,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 50.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"},
            },
        )
    assert error_code(wrong_metric) == "ValidationException"
    with pytest.raises(ClientError) as no_label:
        put_policy(
            aas,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 500.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget"},
            },
        )
    assert error_code(no_label) == "ValidationException"
    with pytest.raises(ClientError) as no_steps:
        put_policy(
            aas,
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "StepAdjustments": []},
        )
    assert error_code(no_steps) == "ValidationException"


def test_describe_and_delete_policies(aas: Any, sandbox: Sandbox) -> None:
    create_ecs_service(sandbox, "apps", "web", desired=1)
    create_ecs_service(sandbox, "apps", "api", desired=1)
    register(aas, "service/apps/web")
    register(aas, "service/apps/api")
    put_policy(aas, "cpu", "service/apps/web")
    put_policy(
        aas, "steps", "service/apps/web", PolicyType="StepScaling", StepScalingPolicyConfiguration=STEP_CONFIG
    )
    put_policy(aas, "cpu", "service/apps/api")

    def names(**filters: Any) -> list[tuple[str, str]]:
        found = aas.describe_scaling_policies(ServiceNamespace="ecs", **filters)["ScalingPolicies"]
        return [(p["ResourceId"], p["PolicyName"]) for p in found]

    assert names(ResourceId="service/apps/web") == [
        ("service/apps/web", "cpu"),
        ("service/apps/web", "steps"),
    ]
    assert names(PolicyNames=["cpu"]) == [("service/apps/web", "cpu"), ("service/apps/api", "cpu")]
    first = aas.describe_scaling_policies(ServiceNamespace="ecs", MaxResults=2)
    rest = aas.describe_scaling_policies(ServiceNamespace="ecs", MaxResults=2, NextToken=first["NextToken"])
    assert len(first["ScalingPolicies"]) == 2 and len(rest["ScalingPolicies"]) == 1
    aas.delete_scaling_policy(
        PolicyName="cpu", ServiceNamespace="ecs", ResourceId="service/apps/web", ScalableDimension=DIMENSION
    )
    assert names(ResourceId="service/apps/web") == [("service/apps/web", "steps")]
    with pytest.raises(ClientError) as missing:
        aas.delete_scaling_policy(
            PolicyName="cpu",
            ServiceNamespace="ecs",
            ResourceId="service/apps/web",
            ScalableDimension=DIMENSION,
        )
    assert error_code(missing) == "ObjectNotFoundException"


# ---------------------------------------------------------------------- tags


def test_tags_on_scalable_targets(aas: Any, ecs_service: None) -> None:
    arn = register(aas, Tags={"team": "core"})
    aas.tag_resource(ResourceARN=arn, Tags={"env": "dev", "x": "1"})
    aas.untag_resource(ResourceARN=arn, TagKeys=["x"])
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "core", "env": "dev"}
    unknown = arn[:-4] + "0000"
    with pytest.raises(ClientError) as missing:
        aas.list_tags_for_resource(ResourceARN=unknown)
    assert error_code(missing) == "ResourceNotFoundException"


# ---------------------------------------------------------------------- scaling an ECS service


def test_simulated_scaling_needs_a_registered_target(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxAdminError, match="No scalable target registered"):
        sandbox.admin.scale("service/apps/nothing", 3)


def desired_count(sandbox: Sandbox, cluster: str = "apps", service: str = "web") -> int:
    described = sandbox.client("ecs").describe_services(cluster=cluster, services=[service])
    return described["services"][0]["desiredCount"]


def test_register_on_a_missing_ecs_service_fails(sandbox: Sandbox, aas: Any) -> None:
    with pytest.raises(ClientError) as missing:
        register(aas, "service/apps/ghost")
    assert error_code(missing) == "ValidationException"
    assert missing.value.response["Error"]["Message"] == "ECS service doesn't exist: service/apps/ghost"


def test_simulated_scaling_sets_the_desired_count_within_bounds(sandbox: Sandbox, aas: Any) -> None:
    create_ecs_service(sandbox, "apps", "web", desired=2)
    register(aas, MinCapacity=1, MaxCapacity=4)
    result = sandbox.admin.scale("service/apps/web", 3)
    assert result == {"resourceId": "service/apps/web", "desiredCount": 3, "applied": True, "reason": None}
    assert desired_count(sandbox) == 3
    clamped = sandbox.admin.scale("service/apps/web", 10)
    assert clamped["desiredCount"] == 4 and clamped["applied"] is True
    assert "maximum capacity 4" in clamped["reason"]
    assert desired_count(sandbox) == 4
    at_max = sandbox.admin.scale("service/apps/web", 9)
    assert at_max["applied"] is False
    activities = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId="service/apps/web")
    assert [a["Description"] for a in activities["ScalingActivities"]] == [
        "Setting desired count to 4.",
        "Setting desired count to 3.",
    ]
    assert {a["StatusCode"] for a in activities["ScalingActivities"]} == {"Successful"}
    with_not_scaled = aas.describe_scaling_activities(
        ServiceNamespace="ecs", ResourceId="service/apps/web", IncludeNotScaledActivities=True
    )["ScalingActivities"]
    assert with_not_scaled[0]["NotScaledReasons"][0]["Code"] == "AlreadyAtMaxCapacity"


def test_changing_min_capacity_scales_the_service_into_range(sandbox: Sandbox, aas: Any) -> None:
    create_ecs_service(sandbox, "apps", "web", desired=1)
    register(aas, MinCapacity=3, MaxCapacity=6)
    assert desired_count(sandbox) == 3
    activity = aas.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"][0]
    assert activity["Cause"] == "minimum capacity was set to 3"


def test_scale_in_is_refused_during_a_deployment_and_when_suspended(sandbox: Sandbox, aas: Any) -> None:
    ecs = create_ecs_service(sandbox, "apps", "web", desired=3)
    register(aas, MinCapacity=1, MaxCapacity=6, SuspendedState={"DynamicScalingInSuspended": True})
    suspended = sandbox.admin.scale("service/apps/web", 1)
    assert suspended["applied"] is False and "DynamicScalingInSuspended" in suspended["reason"]
    register(aas, MinCapacity=1, MaxCapacity=6, SuspendedState={"DynamicScalingInSuspended": False})
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "app", "image": "web:2", "memory": 128, "essential": True}],
    )
    ecs.update_service(cluster="apps", service="web", taskDefinition="web:2")
    refused = sandbox.admin.scale("service/apps/web", 1)
    assert refused["applied"] is False
    assert "scale-in is suspended" in refused["reason"] and "deployment" in refused["reason"]
    assert refused["desiredCount"] == 3
    assert desired_count(sandbox) == 3
    scale_out = sandbox.admin.scale("service/apps/web", 5)
    assert scale_out["applied"] is True, "scale-out continues during a deployment"
    assert desired_count(sandbox) == 5


def test_state_survives_pickling(sandbox: Sandbox, aas: Any, ecs_service: None) -> None:
    register(aas)
    put_policy(aas)
    with sandbox.world.lock:
        world = pickle.loads(pickle.dumps(sandbox.world))
    restored = world.region(DEFAULT_ACCOUNT, "us-east-1").autoscaling
    assert [policy.name for policy in restored.policies.values()] == ["cpu"]
