"""The admin API: clock, image behaviours, reset, health."""

from __future__ import annotations

import pytest

from corral.sandbox import Sandbox
from corral.sandbox.client import SandboxAdminError


def test_health_reports_speed_and_throttling(sandbox: Sandbox) -> None:
    health = sandbox.admin.health()
    assert health["status"] == "ok"
    assert health["speed"] == 50
    assert health["throttling"] is True


def test_clock_advances_on_request(sandbox: Sandbox) -> None:
    before = sandbox.admin.now()
    after = sandbox.admin.advance(3600)
    assert after - before >= 3600
    with pytest.raises(SandboxAdminError, match="only moves forward"):
        sandbox.admin.advance(-1)


def test_image_behaviours_are_set_listed_and_validated(sandbox: Sandbox) -> None:
    sandbox.admin.set_images(
        {"image": "web:broken", "healthCheck": "fail"},
        {"image": "batch/*", "exitCode": 0, "exitAfter": 5},
    )
    rules = {r["image"]: r for r in sandbox.admin.images()}
    assert rules["web:broken"]["healthCheck"] == "fail"
    assert rules["batch/*"]["exitAfter"] == 5
    assert sandbox.world.images.for_image("batch/report:1").exit_code == 0
    assert sandbox.world.images.for_image("web:ok").health_check == "pass", "unmatched images stay healthy"
    with pytest.raises(SandboxAdminError, match="unknown image behaviour fields: colour"):
        sandbox.admin.set_images({"image": "x", "colour": "red"})
    with pytest.raises(SandboxAdminError, match="health_check must be one of pass, fail"):
        sandbox.admin.set_images({"image": "x", "healthCheck": "maybe"})
    sandbox.admin.clear_images()
    assert sandbox.admin.images() == []


def test_reset_forgets_moto_state_and_the_call_log(sandbox: Sandbox) -> None:
    sandbox.client("s3").create_bucket(Bucket="kept-until-reset")
    sandbox.admin.reset()
    assert sandbox.client("s3").list_buckets()["Buckets"] == []
    assert [c["operation"] for c in sandbox.admin.calls()] == ["ListBuckets"]


def test_unknown_admin_path_is_a_clear_404(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxAdminError, match="no admin endpoint GET /_sandbox/nothing"):
        sandbox.admin._call("GET", "/nothing")


def test_target_health_of_api_registered_targets_can_be_set(sandbox: Sandbox) -> None:
    ec2, elbv2 = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    lb = elbv2.create_load_balancer(Name="admin", Subnets=subnets)["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name="admin",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckIntervalSeconds=10,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.5", "Port": 80}])
    sandbox.admin.advance(60)
    sandbox.admin.set_target_health(tg, "10.0.0.5", port=80, healthy=False, status_code=502)
    sandbox.admin.advance(60)
    (health,) = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert health["TargetHealth"]["State"] == "unhealthy"
    assert health["TargetHealth"]["Description"] == "Health checks failed with these codes: [502]"
    with pytest.raises(SandboxAdminError, match="InvalidTarget"):
        sandbox.admin.set_target_health(tg, "10.9.9.9", port=80, healthy=True)
