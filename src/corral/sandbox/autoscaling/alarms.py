"""The CloudWatch alarms a target tracking policy creates, kept in moto's CloudWatch.

Like the real service, the alarms carry the policy ARN as their action and a description
asking people not to edit them; `aws cloudwatch describe-alarms` against the sandbox shows them.
Metric math (CustomizedMetricSpecification.Metrics) is returned but not stored in CloudWatch.
"""

from __future__ import annotations

import logging
from typing import Any

from .policies import Alarm, ScalingPolicy

log = logging.getLogger(__name__)

ECS_METRICS = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization", "Average"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}
SCALE_IN_FACTOR = 0.9  # the low alarm fires 10 % under the target value


def _cloudwatch(account_id: str, region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("cloudwatch")[account_id][region]


def alarm_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"


def _metric(policy: ScalingPolicy) -> tuple[str, str, str, list[dict[str, str]]] | None:
    """(namespace, metric name, statistic, dimensions), None when the metric is metric math."""
    configuration = policy.configuration
    predefined = configuration.get("PredefinedMetricSpecification")
    if predefined is not None:
        metric_type = predefined["PredefinedMetricType"]
        namespace, name, statistic = ECS_METRICS.get(
            metric_type, ("AWS/ApplicationAutoScaling", metric_type, "Average")
        )
        if metric_type == "ALBRequestCountPerTarget":
            label = predefined.get("ResourceLabel", "")
            target_group = label[label.find("targetgroup/") :] if "targetgroup/" in label else label
            return namespace, name, statistic, [{"Name": "TargetGroup", "Value": target_group}]
        ecs_service = policy.key.ecs_service()
        if ecs_service is None:
            return namespace, name, statistic, []
        cluster, service = ecs_service
        return (
            namespace,
            name,
            statistic,
            [
                {"Name": "ClusterName", "Value": cluster},
                {"Name": "ServiceName", "Value": service},
            ],
        )
    customized = configuration.get("CustomizedMetricSpecification") or {}
    if customized.get("Metrics"):
        return None
    return (
        customized.get("Namespace", ""),
        customized.get("MetricName", ""),
        customized.get("Statistic", "Average"),
        list(customized.get("Dimensions") or []),
    )


def put_alarms(policy: ScalingPolicy, account_id: str, region: str) -> list[Alarm]:
    """Create (or replace) the policy's alarms; returns them, and removes ones no longer wanted."""
    names = policy.alarm_names()
    stale = [alarm.name for alarm in policy.alarms if alarm.name not in names]
    delete_alarms(stale, account_id, region)
    metric = _metric(policy) if names else None
    if metric is not None:
        target = float(policy.configuration["TargetValue"])
        for name in names:
            high = "-AlarmHigh-" in name
            _put(
                name,
                metric,
                account_id,
                region,
                threshold=target if high else target * SCALE_IN_FACTOR,
                operator="GreaterThanThreshold" if high else "LessThanThreshold",
                periods=3 if high else 15,
                policy_arn=policy.arn,
            )
    return [Alarm(name=name, arn=alarm_arn(account_id, region, name)) for name in names]


def _put(
    name: str,
    metric: tuple[str, str, str, list[dict[str, str]]],
    account_id: str,
    region: str,
    *,
    threshold: float,
    operator: str,
    periods: int,
    policy_arn: str,
) -> None:
    namespace, metric_name, statistic, dimensions = metric
    try:
        _cloudwatch(account_id, region).put_metric_alarm(
            name=name,
            namespace=namespace,
            metric_name=metric_name,
            comparison_operator=operator,
            evaluation_periods=periods,
            period=60,
            threshold=threshold,
            statistic=statistic,
            description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy_arn}.",
            dimensions=dimensions,
            alarm_actions=[policy_arn],
        )
    except Exception:  # CloudWatch is moto's: a failure there must not fail the scaling API
        log.exception("could not create alarm %s in the sandbox's CloudWatch", name)


def delete_alarms(names: list[str], account_id: str, region: str) -> None:
    if names:
        _cloudwatch(account_id, region).delete_alarms(names)
