"""Service deployments and revisions of rolling deployments: the records, their statuses, the APIs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_ecs_native_support import assert_output_shape, deployments_of, describe_deployment, wait_deployment
from .test_ecs_support import (
    FAST_HEALTH_CHECK,
    describe,
    error_of,
    fargate_definition,
    fargate_service,
    wait_completed,
)


def started_service(sandbox: Sandbox) -> tuple[Any, str]:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    first = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", first, 2)
    wait_completed(ecs, "apps", "web", first)
    return ecs, first


def test_each_deployment_has_a_service_deployment_and_a_revision(sandbox: Sandbox) -> None:
    ecs, first = started_service(sandbox)
    (created,) = deployments_of(ecs, "apps", "web")
    assert created["status"] == "SUCCESSFUL"
    assert created["sourceServiceRevisions"] == []
    assert created["finishedAt"] >= created["startedAt"]
    assert created["targetServiceRevision"]["requestedTaskCount"] == 2
    assert created["targetServiceRevision"]["runningTaskCount"] == 2
    first_revision = created["targetServiceRevision"]["arn"]
    assert ":service-revision/apps/web/" in first_revision
    assert ":service-deployment/apps/web/" in created["serviceDeploymentArn"]

    second = fargate_definition(ecs, "web", "web:2")
    updated = ecs.update_service(cluster="apps", service="web", taskDefinition=second)["service"]
    assert_output_shape(ecs, "UpdateService", {"service": updated})
    current = updated["currentServiceDeployment"]
    assert current != created["serviceDeploymentArn"]
    in_progress = describe_deployment(ecs, current)
    assert in_progress["status"] == "IN_PROGRESS"
    assert in_progress["lifecycleStage"] in ("SCALE_UP", "CLEAN_UP")
    assert [s["arn"] for s in in_progress["sourceServiceRevisions"]] == [first_revision]
    assert in_progress["deploymentConfiguration"]["maximumPercent"] == 200

    done = wait_deployment(ecs, current, "SUCCESSFUL")
    assert done["lifecycleStage"] == "CLEAN_UP"
    assert done["sourceServiceRevisions"][0]["runningTaskCount"] == 0
    service = wait_completed(ecs, "apps", "web", second)
    assert service["currentServiceDeployment"] == current
    assert [r["arn"] for r in service["currentServiceRevisions"]] == [done["targetServiceRevision"]["arn"]]
    assert_output_shape(ecs, "DescribeServices", {"services": [service], "failures": []})

    revisions = ecs.describe_service_revisions(
        serviceRevisionArns=[first_revision, done["targetServiceRevision"]["arn"]]
    )
    assert_output_shape(ecs, "DescribeServiceRevisions", revisions)
    old, new = revisions["serviceRevisions"]
    assert (old["taskDefinition"], new["taskDefinition"]) == (first, second)
    assert new["containerImages"] == [{"containerName": "app", "image": "web:2"}]
    assert new["launchType"] == "FARGATE"
    assert new["networkConfiguration"]["awsvpcConfiguration"]["subnets"]


def test_list_filters_by_status_and_creation_time(sandbox: Sandbox) -> None:
    ecs, _ = started_service(sandbox)
    second = fargate_definition(ecs, "web", "web:2")
    ecs.update_service(cluster="apps", service="web", taskDefinition=second)
    sandbox.admin.advance(5)  # the filter's timestamps go over the wire in whole seconds
    later = ecs.update_service(cluster="apps", service="web", forceNewDeployment=True)["service"]
    newest = later["currentServiceDeployment"]
    everything = deployments_of(ecs, "apps", "web")
    assert len(everything) == 3 and everything[0]["serviceDeploymentArn"] == newest
    assert everything[1]["status"] == "STOPPED", "a newer deployment replaced it before it finished"
    assert everything[1]["statusReason"]

    stopped = ecs.list_service_deployments(cluster="apps", service="web", status=["STOPPED"])
    assert [d["serviceDeploymentArn"] for d in stopped["serviceDeployments"]] == [
        everything[1]["serviceDeploymentArn"]
    ]
    middle = everything[1]["createdAt"]
    after = ecs.list_service_deployments(
        cluster="apps", service="web", createdAt={"after": middle + dt.timedelta(seconds=2)}
    )
    assert [d["serviceDeploymentArn"] for d in after["serviceDeployments"]] == [newest]
    before = ecs.list_service_deployments(
        cluster="apps", service="web", createdAt={"before": middle - dt.timedelta(seconds=2)}
    )
    assert [d["serviceDeploymentArn"] for d in before["serviceDeployments"]] == [
        everything[2]["serviceDeploymentArn"]
    ]
    page = ecs.list_service_deployments(cluster="apps", service="web", maxResults=2)
    assert len(page["serviceDeployments"]) == 2 and page["nextToken"]


def test_describe_limits_and_unknown_arns(sandbox: Sandbox) -> None:
    ecs, _ = started_service(sandbox)
    (record,) = deployments_of(ecs, "apps", "web")
    missing = record["serviceDeploymentArn"][:-4] + "XXXX"
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[record["serviceDeploymentArn"], missing])
    assert answer["failures"] == [{"arn": missing, "reason": "MISSING"}]
    with pytest.raises(ClientError) as too_many:
        ecs.describe_service_deployments(serviceDeploymentArns=[missing] * 21)
    assert error_of(too_many) == (
        "InvalidParameterException",
        "serviceDeploymentArns can have at most 20 items.",
    )
    with pytest.raises(ClientError) as revisions:
        ecs.describe_service_revisions(serviceRevisionArns=[missing] * 21)
    assert error_of(revisions)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as unknown:
        ecs.stop_service_deployment(serviceDeploymentArn=missing, stopType="ROLLBACK")
    assert error_of(unknown)[0] == "ServiceDeploymentNotFoundException"
    with pytest.raises(ClientError) as finished:
        ecs.stop_service_deployment(serviceDeploymentArn=record["serviceDeploymentArn"], stopType="ROLLBACK")
    assert error_of(finished)[0] == "ConflictException"
    with pytest.raises(ClientError) as no_service:
        ecs.list_service_deployments(cluster="apps", service="nope")
    assert error_of(no_service)[0] == "ServiceNotFoundException"


@pytest.mark.sandbox(speed=20)
def test_circuit_breaker_rollback_shows_on_the_service_deployment(sandbox: Sandbox) -> None:
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    good = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    fargate_service(ecs, "apps", "web", good, 2)
    wait_completed(ecs, "apps", "web", good)
    (first,) = deployments_of(ecs, "apps", "web")
    broken = fargate_definition(ecs, "web", "web:broken", health_check=FAST_HEALTH_CHECK)
    current = ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=broken,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )["service"]["currentServiceDeployment"]
    monitoring = describe_deployment(ecs, current)
    assert monitoring["deploymentCircuitBreaker"] == {
        "status": "MONITORING",
        "failureCount": 0,
        "threshold": 3,
    }

    rolled = wait_deployment(ecs, current, "ROLLBACK_SUCCESSFUL", timeout=60)
    assert rolled["rollback"]["serviceRevisionArn"] == first["targetServiceRevision"]["arn"]
    assert rolled["rollback"]["reason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert rolled["statusReason"] == rolled["rollback"]["reason"]
    assert rolled["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert rolled["deploymentCircuitBreaker"]["failureCount"] >= 3
    service = wait_completed(ecs, "apps", "web", good)
    assert service["currentServiceDeployment"] == current, "a rollback is no new service deployment"
    assert [r["arn"] for r in service["currentServiceRevisions"]] == [first["targetServiceRevision"]["arn"]]


@pytest.mark.sandbox(speed=20)
def test_stop_service_deployment_rolls_a_rolling_deployment_back(sandbox: Sandbox) -> None:
    ecs, first = started_service(sandbox)
    sandbox.admin.set_images({"image": "web:slow", "startDelay": 600})
    slow = fargate_definition(ecs, "web", "web:slow")
    current = ecs.update_service(cluster="apps", service="web", taskDefinition=slow)["service"][
        "currentServiceDeployment"
    ]
    answer = ecs.stop_service_deployment(serviceDeploymentArn=current, stopType="ROLLBACK")
    assert_output_shape(ecs, "StopServiceDeployment", answer)
    assert answer["serviceDeploymentArn"] == current
    rolling_back = describe_deployment(ecs, current)
    assert rolling_back["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    assert rolling_back["rollback"]["reason"]
    done = wait_deployment(ecs, current, "ROLLBACK_SUCCESSFUL")
    assert done["finishedAt"] >= done["rollback"]["startedAt"]
    wait_completed(ecs, "apps", "web", first)
    assert describe(ecs, "apps", "web")["taskDefinition"] == first


@pytest.mark.sandbox(speed=20)
def test_stop_service_deployment_abort_leaves_the_tasks_as_they_are(sandbox: Sandbox) -> None:
    ecs, _ = started_service(sandbox)
    sandbox.admin.set_images({"image": "web:slow", "startDelay": 600})
    slow = fargate_definition(ecs, "web", "web:slow")
    current = ecs.update_service(cluster="apps", service="web", taskDefinition=slow)["service"][
        "currentServiceDeployment"
    ]
    ecs.stop_service_deployment(serviceDeploymentArn=current, stopType="ABORT")
    stopped = describe_deployment(ecs, current)
    assert stopped["status"] == "STOPPED" and stopped["stoppedAt"]
    sandbox.admin.advance(30)
    service = describe(ecs, "apps", "web")
    old = service["deployments"][1]
    assert old["runningCount"] == 2, "the old tasks keep serving"
    assert service["deployments"][0]["rolloutState"] == "FAILED"


@pytest.mark.sandbox(speed=20)
def test_alarm_in_alarm_rolls_a_rolling_deployment_back(sandbox: Sandbox) -> None:
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="nsb-rolling-errors",
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=90.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    ecs, first = started_service(sandbox)
    sandbox.admin.set_images({"image": "web:slow", "startDelay": 600})
    slow = fargate_definition(ecs, "web", "web:slow")
    current = ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=slow,
        deploymentConfiguration={
            "alarms": {"alarmNames": ["nsb-rolling-errors"], "enable": True, "rollback": True}
        },
    )["service"]["currentServiceDeployment"]
    assert describe_deployment(ecs, current)["alarms"]["status"] == "MONITORING"
    cloudwatch.set_alarm_state(AlarmName="nsb-rolling-errors", StateValue="ALARM", StateReason="errors")
    sandbox.admin.advance(60)
    done = wait_deployment(ecs, current, "ROLLBACK_SUCCESSFUL")
    assert done["alarms"] == {
        "status": "TRIGGERED",
        "alarmNames": ["nsb-rolling-errors"],
        "triggeredAlarmNames": ["nsb-rolling-errors"],
    }
    assert done["rollback"]["reason"] == "CloudWatch alarm(s) in ALARM state: nsb-rolling-errors."
    wait_completed(ecs, "apps", "web", first)


@pytest.mark.sandbox(speed=20)
@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        ({"type": "COUNT", "value": 1}, 1),
        ({"type": "UNBOUNDED_PERCENT", "value": 50}, 1),  # 50 % of 2 tasks, no lower bound of 3
        ({"type": "BOUNDED_PERCENT", "value": 50}, 3),  # clamped to at least 3
    ],
    ids=["count", "unbounded", "bounded"],
)
def test_circuit_breaker_threshold_configuration(
    sandbox: Sandbox, threshold: dict[str, Any], expected: int
) -> None:
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    good = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    fargate_service(ecs, "apps", "web", good, 2)
    wait_completed(ecs, "apps", "web", good)
    broken = fargate_definition(ecs, "web", "web:broken", health_check=FAST_HEALTH_CHECK)
    breaker = {"enable": True, "rollback": True, "thresholdConfiguration": threshold}
    updated = ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=broken,
        deploymentConfiguration={"deploymentCircuitBreaker": breaker},
    )["service"]
    assert (
        updated["deploymentConfiguration"]["deploymentCircuitBreaker"]["thresholdConfiguration"] == threshold
    )
    current = updated["currentServiceDeployment"]
    assert describe_deployment(ecs, current)["deploymentCircuitBreaker"]["threshold"] == expected
    done = wait_deployment(ecs, current, "ROLLBACK_SUCCESSFUL", timeout=60)
    assert done["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert done["deploymentCircuitBreaker"]["failureCount"] >= expected
    wait_completed(ecs, "apps", "web", good)


def test_circuit_breaker_threshold_type_is_checked(sandbox: Sandbox) -> None:
    ecs, _ = started_service(sandbox)
    with pytest.raises(ClientError) as refused:
        ecs.update_service(
            cluster="apps",
            service="web",
            deploymentConfiguration={
                "deploymentCircuitBreaker": {
                    "enable": True,
                    "rollback": True,
                    "thresholdConfiguration": {"type": "COUNT", "value": 0},
                }
            },
        )
    assert error_of(refused) == (
        "InvalidParameterException",
        "deploymentCircuitBreaker.thresholdConfiguration.value must be a positive integer; got 0.",
    )


def test_early_success_criteria_finish_the_service_deployment_before_the_roll(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    first = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", first, 4)
    wait_completed(ecs, "apps", "web", first)
    second = fargate_definition(ecs, "web", "web:2")
    current = ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=second,
        deploymentConfiguration={
            "minimumHealthyPercent": 50,
            "maximumPercent": 100,  # two tasks replaced at a time: the roll takes two rounds
            "earlySuccessCriteria": {
                "enable": True,
                "healthyPercent": 50,
                "sourceServiceRevisionCleanup": "DEFERRED",
            },
        },
    )["service"]["currentServiceDeployment"]
    done = wait_deployment(ecs, current, "SUCCESSFUL")
    service = wait_completed(ecs, "apps", "web", second)
    assert service["deploymentConfiguration"]["earlySuccessCriteria"]["healthyPercent"] == 50
    completed = next(e for e in service["events"] if e["message"].endswith("deployment completed."))
    assert done["finishedAt"] < completed["createdAt"], "successful at half the tasks, before the roll ended"


def test_early_success_criteria_are_checked(sandbox: Sandbox) -> None:
    ecs, _ = started_service(sandbox)
    with pytest.raises(ClientError) as refused:
        ecs.update_service(
            cluster="apps",
            service="web",
            deploymentConfiguration={
                "minimumHealthyPercent": 100,
                "earlySuccessCriteria": {
                    "enable": True,
                    "healthyPercent": 50,
                    "sourceServiceRevisionCleanup": "BLOCKING",
                },
            },
        )
    assert error_of(refused)[1] == (
        "deploymentConfiguration.earlySuccessCriteria.healthyPercent (50) must be at least minimumHealthyPercent (100)."
    )
