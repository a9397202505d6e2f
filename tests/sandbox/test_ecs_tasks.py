"""Standalone tasks: RunTask, the lifecycle and its timestamps, exits, StopTask, Describe and List."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import FAST_HEALTH_CHECK, ec2_definition, error_of, fargate_definition, network


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    client = sandbox.client("ecs")
    client.create_cluster(clusterName="jobs")
    return client


def run(ecs: Any, definition: str, **extra: Any) -> dict[str, Any]:
    return ecs.run_task(
        cluster="jobs",
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        **extra,
    )["tasks"][0]


def task(ecs: Any, arn: str) -> dict[str, Any]:
    return ecs.describe_tasks(cluster="jobs", tasks=[arn], include=["TAGS"])["tasks"][0]


def wait_for_task(ecs: Any, arn: str, key: str, value: str, cluster: str = "jobs") -> dict[str, Any]:
    def matching() -> dict[str, Any] | None:
        found = ecs.describe_tasks(cluster=cluster, tasks=[arn], include=["TAGS"])["tasks"][0]
        return found if found[key] == value else None

    return wait_until(matching, message=f"{key} {value}")


def wait_status(ecs: Any, arn: str, status: str) -> dict[str, Any]:
    return wait_for_task(ecs, arn, "lastStatus", status)


def ordered(t: dict[str, Any], *names: str) -> bool:
    times = [t[n] for n in names]
    return times == sorted(times)


@pytest.mark.parametrize(("image", "code"), [("job:ok", 0), ("job:bad", 1)])
def test_a_task_that_exits(sandbox: Sandbox, ecs: Any, image: str, code: int) -> None:
    sandbox.admin.set_images({"image": image, "exitCode": code, "exitAfter": 5})
    definition = fargate_definition(ecs, "job", image)
    started = run(ecs, definition)
    assert (started["lastStatus"], started["desiredStatus"]) == ("PROVISIONING", "RUNNING")
    assert started["group"] == "family:job"
    ecs.get_waiter("tasks_stopped").wait(
        cluster="jobs", tasks=[started["taskArn"]], WaiterConfig={"Delay": 1}
    )
    stopped = task(ecs, started["taskArn"])
    assert (stopped["lastStatus"], stopped["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == code
    assert stopped["containers"][0]["lastStatus"] == "STOPPED"
    assert ordered(
        stopped,
        "createdAt",
        "pullStartedAt",
        "pullStoppedAt",
        "startedAt",
        "executionStoppedAt",
        "stoppingAt",
        "stoppedAt",
    ), "the container exited first, then ECS stopped the task"
    assert 4.9 <= (stopped["executionStoppedAt"] - stopped["startedAt"]).total_seconds() < 6
    assert stopped["attachments"][0]["status"] == "DELETED"


def test_a_busy_sandbox_still_stamps_the_exit_when_it_happened(sandbox: Sandbox, ecs: Any) -> None:
    """A timer fired late (the machine was busy) must not stretch the container's run."""
    # 60 sandbox seconds are 1.2 s here: time to see RUNNING even on a loaded machine
    sandbox.admin.set_images({"image": "job:late", "exitCode": 0, "exitAfter": 60})
    started = run(ecs, fargate_definition(ecs, "job", "job:late"))
    wait_status(ecs, started["taskArn"], "RUNNING")
    with sandbox.world.lock:  # the exit falls due while the sandbox cannot run it
        time.sleep(2.5)
    stopped = wait_status(ecs, started["taskArn"], "STOPPED")
    ran = (stopped["executionStoppedAt"] - stopped["startedAt"]).total_seconds()
    assert 59.9 <= ran < 60.5, "not the 125 sandbox seconds the lock was held"
    assert ordered(stopped, "startedAt", "executionStoppedAt", "stoppingAt", "stoppedAt")
    assert (stopped["stoppedAt"] - stopped["executionStoppedAt"]).total_seconds() < 1.5, (
        "then the ENI detaches"
    )


def test_a_crash_exits_139(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.admin.set_images({"image": "job:crash", "crashAfter": 3})
    started = run(ecs, fargate_definition(ecs, "job", "job:crash"))
    stopped = wait_status(ecs, started["taskArn"], "STOPPED")
    assert stopped["containers"][0]["exitCode"] == 139
    assert stopped["stopCode"] == "EssentialContainerExited"


def test_a_pull_failure_never_starts(sandbox: Sandbox, ecs: Any) -> None:
    sandbox.admin.set_images({"image": "job:gone", "pullFailure": "manifest for job:gone not found"})
    started = run(ecs, fargate_definition(ecs, "job", "job:gone"))
    stopped = wait_status(ecs, started["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == "CannotPullContainerError: manifest for job:gone not found"
    assert "startedAt" not in stopped
    assert "exitCode" not in stopped["containers"][0]


def test_lifecycle_of_a_running_task_and_stop_task(ecs: Any) -> None:
    started = run(ecs, fargate_definition(ecs, "job", "job:1"), startedBy="nightly", group="batch")
    running = wait_status(ecs, started["taskArn"], "RUNNING")
    assert (running["startedBy"], running["group"], running["launchType"]) == ("nightly", "batch", "FARGATE")
    assert running["platformVersion"] == "1.4.0" and running["connectivity"] == "CONNECTED"
    assert running["healthStatus"] == "UNKNOWN", "no health check"
    (eni,) = running["attachments"]
    details = {d["name"]: d["value"] for d in eni["details"]}
    assert eni["type"] == "ElasticNetworkInterface" and eni["status"] == "ATTACHED"
    assert details["subnetId"] in network(ecs)["awsvpcConfiguration"]["subnets"]
    ip = running["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    assert ip.startswith("10.") and details["privateIPv4Address"] == ip
    assert running["availabilityZone"].startswith("us-east-1")

    stopping = ecs.stop_task(cluster="jobs", task=started["taskArn"])["task"]
    assert stopping["desiredStatus"] == "STOPPED"
    stopped = wait_status(ecs, started["taskArn"], "STOPPED")
    assert (stopped["stopCode"], stopped["stoppedReason"]) == ("UserInitiated", "Task stopped by user")
    assert stopped["containers"][0]["exitCode"] == 0, "exits on SIGTERM"
    assert (stopped["stoppedAt"] - stopped["stoppingAt"]).total_seconds() < 5
    other = run(ecs, fargate_definition(ecs, "job", "job:1"))
    ecs.stop_task(cluster="jobs", task=other["taskArn"].rsplit("/", 1)[1], reason="no longer needed")
    assert wait_status(ecs, other["taskArn"], "STOPPED")["stoppedReason"] == "no longer needed"
    with pytest.raises(ClientError) as unknown:
        ecs.stop_task(cluster="jobs", task="0123456789abcdef0123456789abcdef")
    assert error_of(unknown)[0] == "InvalidParameterException"


@pytest.mark.parametrize(("behaviour", "expected"), [("pass", "HEALTHY"), ("fail", "UNHEALTHY")])
def test_container_health_of_a_standalone_task(
    sandbox: Sandbox, ecs: Any, behaviour: str, expected: str
) -> None:
    sandbox.admin.set_images({"image": f"job:{behaviour}", "healthCheck": behaviour})
    started = run(ecs, fargate_definition(ecs, "job", f"job:{behaviour}", health_check=FAST_HEALTH_CHECK))
    found = wait_for_task(ecs, started["taskArn"], "healthStatus", expected)
    assert found["containers"][0]["healthStatus"] == expected
    assert found["lastStatus"] == "RUNNING", "standalone tasks are not stopped for failing health checks"


def test_run_task_limits_and_errors(ecs: Any) -> None:
    definition = fargate_definition(ecs, "job", "job:1")
    with pytest.raises(ClientError) as too_many:
        run(ecs, definition, count=11)
    assert error_of(too_many)[0] == "InvalidParameterException"
    assert (
        len(
            ecs.run_task(
                cluster="jobs",
                taskDefinition=definition,
                launchType="FARGATE",
                networkConfiguration=network(ecs),
                count=10,
            )["tasks"]
        )
        == 10
    )
    with pytest.raises(ClientError) as no_network:
        ecs.run_task(cluster="jobs", taskDefinition=definition, launchType="FARGATE")
    assert error_of(no_network) == (
        "InvalidParameterException",
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    )
    with pytest.raises(ClientError) as no_instances:
        ecs.run_task(cluster="jobs", taskDefinition=ec2_definition(ecs, "ec2job", "job:1"))
    assert error_of(no_instances) == (
        "InvalidParameterException",
        "No Container Instances were found in your cluster.",
    )
    with pytest.raises(ClientError) as bridge_on_fargate:
        ecs.run_task(cluster="jobs", taskDefinition="ec2job", launchType="FARGATE")
    assert error_of(bridge_on_fargate)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as no_cluster:
        ecs.run_task(
            cluster="ghost",
            taskDefinition=definition,
            launchType="FARGATE",
            networkConfiguration=network(ecs),
        )
    assert error_of(no_cluster)[0] == "ClusterNotFoundException"


def test_ec2_tasks_on_simulated_instances(ecs: Any) -> None:
    ecs.create_cluster(clusterName="hosts", tags=[{"key": "corral:sandbox:containerInstances", "value": "2"}])
    definition = ec2_definition(ecs, "ec2job", "job:1")
    started = ecs.run_task(cluster="hosts", taskDefinition=definition, count=4)["tasks"]
    assert {t["launchType"] for t in started} == {"EC2"}
    assert len({t["containerInstanceArn"] for t in started}) == 2, "spread over both instances"
    instance = started[0]["containerInstanceArn"]
    on_one = ecs.list_tasks(cluster="hosts", containerInstance=instance)["taskArns"]
    assert len(on_one) == 2
    running = wait_for_task(ecs, started[0]["taskArn"], "lastStatus", "RUNNING", cluster="hosts")
    (binding,) = running["containers"][0]["networkBindings"]
    assert binding["containerPort"] == 80 and binding["hostPort"] >= 32768


def test_tags_on_run_task(ecs: Any) -> None:
    definition = fargate_definition(ecs, "job", "job:1", tags=[{"key": "owner", "value": "batch"}])
    started = run(
        ecs,
        definition,
        tags=[{"key": "run", "value": "42"}],
        propagateTags="TASK_DEFINITION",
        enableECSManagedTags=True,
    )
    tags = {t["key"]: t["value"] for t in task(ecs, started["taskArn"])["tags"]}
    assert tags == {"run": "42", "owner": "batch", "aws:ecs:clusterName": "jobs"}
    assert "tags" not in ecs.describe_tasks(cluster="jobs", tasks=[started["taskArn"]])["tasks"][0]


def test_describe_and_list_tasks(sandbox: Sandbox, ecs: Any) -> None:
    one = run(ecs, fargate_definition(ecs, "job", "job:1"), startedBy="me")
    two = run(ecs, fargate_definition(ecs, "other", "job:1"))
    found = ecs.describe_tasks(cluster="jobs", tasks=[one["taskArn"], "0123456789abcdef0123456789abcdef"])
    assert [t["taskArn"] for t in found["tasks"]] == [one["taskArn"]]
    assert found["failures"] == [
        {
            "arn": "arn:aws:ecs:us-east-1:123456789012:task/jobs/0123456789abcdef0123456789abcdef",
            "reason": "MISSING",
        }
    ]
    with pytest.raises(ClientError) as too_many:
        ecs.describe_tasks(cluster="jobs", tasks=[f"{i:032x}" for i in range(101)])
    assert error_of(too_many) == ("InvalidParameterException", "tasks can have at most 100 items.")
    assert ecs.list_tasks(cluster="jobs", family="job")["taskArns"] == [one["taskArn"]]
    assert ecs.list_tasks(cluster="jobs", startedBy="me")["taskArns"] == [one["taskArn"]]
    assert len(ecs.list_tasks(cluster="jobs", launchType="FARGATE")["taskArns"]) == 2
    assert ecs.list_tasks(cluster="jobs", launchType="EC2")["taskArns"] == []
    ecs.stop_task(cluster="jobs", task=two["taskArn"])
    assert ecs.list_tasks(cluster="jobs")["taskArns"] == [one["taskArn"]]
    assert ecs.list_tasks(cluster="jobs", desiredStatus="STOPPED")["taskArns"] == [two["taskArn"]]
    wait_status(ecs, two["taskArn"], "STOPPED")
    sandbox.admin.advance(1800)
    assert task(ecs, two["taskArn"])["lastStatus"] == "STOPPED", "stopped tasks stay visible for an hour"
    sandbox.admin.advance(1900)
    assert ecs.describe_tasks(cluster="jobs", tasks=[two["taskArn"]])["failures"][0]["reason"] == "MISSING"
