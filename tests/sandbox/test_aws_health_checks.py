"""Health check and draining timings against AWS's pages (aws_fixtures/health_checks.yaml): target
group defaults, a new target healthy after one passing check, a recovering one after the healthy
threshold (the ECS guide's 2 min 30 s with the defaults), a failing one after the unhealthy threshold,
the default deregistration delay, and the container health check's defaults and ranges.

At speed 1, moving the clock with `admin.advance`: a state changes exactly when the test jumps past it.
"""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from corral.sandbox import Sandbox

from .aws_fixture_data import entry
from .test_elbv2_support import alb_stack

pytestmark = pytest.mark.sandbox(speed=1)
TARGET = {"Id": "10.0.1.5", "Port": 80}


def documented(entry_id: str) -> dict[str, Any]:
    return entry("health_checks", entry_id)


def state(elb: Any, group: str) -> str:
    [found] = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return str(found["TargetHealth"]["State"])


def test_a_target_group_has_the_documented_defaults(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)  # target groups made with only protocol, port and target type
    [group] = stack.elb.describe_target_groups(TargetGroupArns=[stack.blue])["TargetGroups"]
    defaults = documented("target-group-defaults")
    for name in ("HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                 "UnhealthyThresholdCount", "HealthCheckPath"):  # fmt: skip
        assert group[name] == defaults[name], name
    assert group["Matcher"]["HttpCode"] == defaults["Matcher"]
    attributes = stack.elb.describe_target_group_attributes(TargetGroupArn=stack.blue)["Attributes"]
    delay = documented("deregistration-delay")
    assert {a["Key"]: a["Value"] for a in attributes}[delay["key"]] == str(delay["default_seconds"])


def test_a_new_target_is_healthy_after_one_passing_check(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    interval = documented("target-group-defaults")["HealthCheckIntervalSeconds"]
    checks = documented("new-target")["passing_checks_to_healthy"]
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=[TARGET])
    sandbox.admin.advance(checks * interval - 1)
    assert state(stack.elb, stack.blue) == "initial"
    sandbox.admin.advance(2)
    assert state(stack.elb, stack.blue) == "healthy", "the healthy threshold is not waited for"


def test_a_target_fails_after_the_unhealthy_threshold_and_recovers_in_two_and_a_half_minutes(
    sandbox: Sandbox,
) -> None:
    stack = alb_stack(sandbox)
    defaults = documented("target-group-defaults")
    interval = defaults["HealthCheckIntervalSeconds"]
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=[TARGET])
    sandbox.admin.advance(interval + 1)
    sandbox.admin.set_target_health(stack.blue, TARGET["Id"], port=TARGET["Port"], healthy=False)
    failing = defaults[documented("failing-target")["failed_checks_to_unhealthy"]] * interval
    sandbox.admin.advance(failing - 1)
    assert state(stack.elb, stack.blue) == "healthy"
    sandbox.admin.advance(2)
    assert state(stack.elb, stack.blue) == "unhealthy"

    sandbox.admin.set_target_health(stack.blue, TARGET["Id"], port=TARGET["Port"], healthy=True)
    recovery = documented("recovering-target")["seconds_to_healthy_with_defaults"]
    assert recovery == defaults["HealthyThresholdCount"] * interval
    sandbox.admin.advance(recovery - 1)
    assert state(stack.elb, stack.blue) == "unhealthy"
    sandbox.admin.advance(2)
    assert state(stack.elb, stack.blue) == "healthy"


def test_a_deregistered_target_drains_for_the_default_delay(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    delay = documented("deregistration-delay")["default_seconds"]
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=[TARGET])
    sandbox.admin.advance(31)
    stack.elb.deregister_targets(TargetGroupArn=stack.blue, Targets=[TARGET])
    sandbox.admin.advance(delay - 1)
    assert state(stack.elb, stack.blue) == "draining"
    sandbox.admin.advance(2)
    assert stack.elb.describe_target_health(TargetGroupArn=stack.blue)["TargetHealthDescriptions"] == []


def test_a_container_health_check_has_the_documented_defaults_and_ranges(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    documented_check = documented("container-health-check")

    def register(**check: int) -> dict[str, Any]:
        container = {"name": "app", "image": "app:1", "memory": 128,
                     "healthCheck": {"command": ["CMD", "true"], **check}}  # fmt: skip
        return ecs.register_task_definition(family="app", containerDefinitions=[container])["taskDefinition"]

    filled = register()["containerDefinitions"][0]["healthCheck"]
    for name in ("interval", "timeout", "retries"):
        assert filled[name] == documented_check[name]["default"], name
    for name in ("interval", "timeout", "retries", "startPeriod"):
        low, high = documented_check[name]["range"]
        register(**{name: low})
        register(**{name: high})
        for outside in (low - 1, high + 1):
            with pytest.raises(botocore.exceptions.ClientError) as caught:
                register(**{name: outside})
            assert caught.value.response["Error"]["Code"] == "ClientException", (name, outside)
