"""Target registration and health on sandbox time, and the contract the ECS emulation uses.

These run at speed 1 and move the clock with `admin.advance`, so a state change happens
exactly when the test jumps past it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox
from corral.sandbox.elbv2.exceptions import TargetGroupNotFound

from .test_elbv2_support import Stack, alb_stack, create_group, error_code

pytestmark = pytest.mark.sandbox(speed=1)

FAST_CHECKS = {
    "HealthCheckIntervalSeconds": 10,
    "HealthyThresholdCount": 3,
    "UnhealthyThresholdCount": 2,
}


def fast_stack(sandbox: Sandbox, *, delay: int = 30) -> Stack:
    """The ALB stack with checks every 10 s (a new target healthy after 10 s, a recovering one after
    30 s, unhealthy after 20 s)."""
    stack = alb_stack(sandbox)
    for arn in (stack.blue, stack.green):
        stack.elb.modify_target_group(TargetGroupArn=arn, **FAST_CHECKS)
        stack.elb.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}],
        )
    return stack


def health(stack: Stack, arn: str) -> dict[tuple[str, int], tuple[str, str | None, str | None]]:
    out = {}
    for d in stack.elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
        h = d["TargetHealth"]
        out[(d["Target"]["Id"], d["Target"]["Port"])] = (h["State"], h.get("Reason"), h.get("Description"))
    return out


def elbv2_backend(sandbox: Sandbox) -> Any:
    return sandbox.world.region("123456789012", "us-east-1").elbv2


def test_registered_target_is_initial_then_healthy(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=[{"Id": "10.0.1.5", "Port": 8080}])
    assert health(stack, stack.blue) == {
        ("10.0.1.5", 8080): ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
    }
    described = stack.elb.describe_target_health(TargetGroupArn=stack.blue)["TargetHealthDescriptions"][0]
    assert described["HealthCheckPort"] == "8080"
    # one passing check makes a new target healthy (AWS's pages: test_aws_health_checks.py)
    sandbox.admin.advance(9)
    assert health(stack, stack.blue)[("10.0.1.5", 8080)][0] == "initial"
    sandbox.admin.advance(2)
    assert health(stack, stack.blue) == {("10.0.1.5", 8080): ("healthy", None, None)}
    assert sandbox.admin.health()["pendingTimers"] == 0, "a stable target schedules nothing"
    stack.elb.get_waiter("target_in_service").wait(TargetGroupArn=stack.blue, WaiterConfig={"Delay": 1})


def test_admin_can_fail_an_api_registered_target(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    target = ("10.0.1.5", 8080)
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=[{"Id": target[0], "Port": target[1]}])
    sandbox.admin.advance(31)
    with sandbox.world.lock:
        elbv2_backend(sandbox).set_target_probe(stack.blue, *target, ok=False, status_code=503)
    sandbox.admin.advance(19)
    assert health(stack, stack.blue)[target][0] == "healthy", "not yet two failed checks"
    sandbox.admin.advance(2)
    assert health(stack, stack.blue)[target] == (
        "unhealthy",
        "Target.ResponseCodeMismatch",
        "Health checks failed with these codes: [503]",
    )
    with sandbox.world.lock:
        elbv2_backend(sandbox).set_target_probe(stack.blue, *target, ok=True)
    sandbox.admin.advance(31)
    assert health(stack, stack.blue)[target][0] == "healthy"


def test_matcher_decides_which_codes_pass(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=[{"Id": "10.0.1.5", "Port": 80}])
    sandbox.admin.advance(31)
    stack.elb.modify_target_group(TargetGroupArn=stack.blue, Matcher={"HttpCode": "301,302"})
    sandbox.admin.advance(21)
    assert health(stack, stack.blue)[("10.0.1.5", 80)][2] == "Health checks failed with these codes: [200]"


def test_targets_of_a_group_without_load_balancer_are_unused(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    stack.elb.register_targets(TargetGroupArn=stack.green, Targets=[{"Id": "10.0.2.7", "Port": 80}])
    unused = (
        "unused",
        "Target.NotInUse",
        "Target group is not configured to receive traffic from the load balancer",
    )
    assert health(stack, stack.green) == {("10.0.2.7", 80): unused}
    sandbox.admin.advance(600)
    assert health(stack, stack.green) == {("10.0.2.7", 80): unused}, "no health checks while unused"

    stack.elb.modify_listener(
        ListenerArn=stack.listener_arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.green}]
    )
    assert health(stack, stack.green)[("10.0.2.7", 80)][0] == "initial"
    sandbox.admin.advance(31)
    assert health(stack, stack.green)[("10.0.2.7", 80)][0] == "healthy"


def test_deregistered_target_drains_for_the_deregistration_delay(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox, delay=60)
    targets = [{"Id": "10.0.1.5", "Port": 80}, {"Id": "10.0.1.6", "Port": 80}]
    stack.elb.register_targets(TargetGroupArn=stack.blue, Targets=targets)
    sandbox.admin.advance(31)
    stack.elb.deregister_targets(TargetGroupArn=stack.blue, Targets=targets[:1])
    assert health(stack, stack.blue) == {
        ("10.0.1.5", 80): (
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        ),
        ("10.0.1.6", 80): ("healthy", None, None),
    }
    sandbox.admin.advance(59)
    assert health(stack, stack.blue)[("10.0.1.5", 80)][0] == "draining"
    sandbox.admin.advance(2)
    assert list(health(stack, stack.blue)) == [("10.0.1.6", 80)]
    asked = stack.elb.describe_target_health(TargetGroupArn=stack.blue, Targets=[targets[0]])
    assert asked["TargetHealthDescriptions"][0]["TargetHealth"] == {
        "State": "unused",
        "Reason": "Target.NotRegistered",
        "Description": "Target is not registered to the target group",
    }


def test_registration_validation(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    instances = create_group(stack.elb, stack.network, "vms", TargetType="instance")
    cases = [
        (stack.blue, [{"Id": "not-an-ip", "Port": 80}], "InvalidTarget"),
        (instances, [{"Id": "10.0.0.1", "Port": 80}], "InvalidTarget"),
        (stack.blue[:-16] + "0" * 16, [{"Id": "10.0.0.1"}], "TargetGroupNotFound"),
    ]
    for arn, targets, code in cases:
        with pytest.raises(ClientError) as error:
            stack.elb.register_targets(TargetGroupArn=arn, Targets=targets)
        assert error_code(error) == code, targets
    with pytest.raises(ClientError) as unknown:
        stack.elb.deregister_targets(TargetGroupArn=stack.blue, Targets=[{"Id": "10.9.9.9", "Port": 80}])
    assert error_code(unknown) == "InvalidTarget"
    # the group's port is the default target port
    stack.elb.register_targets(TargetGroupArn=instances, Targets=[{"Id": "i-0123456789abcdef0"}])
    described = stack.elb.describe_target_health(TargetGroupArn=instances)["TargetHealthDescriptions"]
    assert described[0]["Target"] == {"Id": "i-0123456789abcdef0", "Port": 80}


def test_lambda_targets_without_health_checks_are_unavailable(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    function = stack.elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0][
        "TargetGroupArn"
    ]
    stack.elb.modify_listener(
        ListenerArn=stack.listener_arn, DefaultActions=[{"Type": "forward", "TargetGroupArn": function}]
    )
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hello"
    stack.elb.register_targets(TargetGroupArn=function, Targets=[{"Id": function_arn}])
    state = stack.elb.describe_target_health(TargetGroupArn=function)["TargetHealthDescriptions"][0]
    assert state["TargetHealth"]["State"] == "unavailable"
    assert state["TargetHealth"]["Reason"] == "Target.HealthCheckDisabled"


# ---------------------------------------------------------------- the contract with ECS


@dataclass
class TaskProbe:
    """What ECS hands over: the task's answer to health checks, and where to report."""

    ok: bool = True
    code: int = 200
    seen: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def elb_probe(self) -> tuple[bool, int]:
        return self.ok, self.code

    def on_target_health(self, tg_arn: str, state: str, reason: str | None, description: str | None) -> None:
        self.seen.append((state, reason, description))


def test_contract_health_follows_the_probe_then_drains(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox, delay=45)
    probe = TaskProbe()
    with sandbox.world.lock:
        backend = elbv2_backend(sandbox)
        group = backend.target_group(stack.blue)
        assert (group.port, group.protocol, group.target_type) == (80, "HTTP", "ip")
        assert group.deregistration_delay == 45.0
        assert group.load_balancer_arns == [stack.lb_arn]
        assert (group.health_check_interval_seconds, group.healthy_threshold_count) == (10, 3)
        assert group.unhealthy_threshold_count == 2
        backend.register_service_target(stack.blue, "10.0.3.9", 8080, probe)
    assert health(stack, stack.blue)[("10.0.3.9", 8080)][0] == "initial"
    sandbox.admin.advance(31)
    assert probe.seen == [("healthy", None, None)]
    assert sandbox.admin.health()["pendingTimers"] == 0

    with sandbox.world.lock:
        probe.ok, probe.code = False, 503
        backend.probe_changed(stack.blue, "10.0.3.9", 8080)
    sandbox.admin.advance(21)
    unhealthy = ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]")
    assert probe.seen[-1] == unhealthy
    assert health(stack, stack.blue)[("10.0.3.9", 8080)] == unhealthy
    pickle.dumps(sandbox.world)  # the state file keeps targets, probes and timers

    with sandbox.world.lock:
        assert backend.deregister_service_target(stack.blue, "10.0.3.9", 8080) == 45.0
    assert probe.seen[-1] == (
        "draining",
        "Target.DeregistrationInProgress",
        "Target deregistration is in progress",
    )
    sandbox.admin.advance(46)
    assert health(stack, stack.blue) == {}
    with pytest.raises(TargetGroupNotFound), sandbox.world.lock:
        backend.target_group(stack.blue[:-16] + "0" * 16)


def test_contract_a_short_failure_does_not_make_a_target_unhealthy(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    probe = TaskProbe()
    with sandbox.world.lock:
        backend = elbv2_backend(sandbox)
        backend.register_service_target(stack.blue, "10.0.3.9", 8080, probe)
    sandbox.admin.advance(31)
    with sandbox.world.lock:
        probe.ok = False
        backend.probe_changed(stack.blue, "10.0.3.9", 8080)
    sandbox.admin.advance(10)
    with sandbox.world.lock:
        probe.ok = True
        backend.probe_changed(stack.blue, "10.0.3.9", 8080)
    sandbox.admin.advance(60)
    assert probe.seen == [("healthy", None, None)]


def test_contract_failing_from_the_start_is_unhealthy_after_the_unhealthy_threshold(sandbox: Sandbox) -> None:
    stack = fast_stack(sandbox)
    probe = TaskProbe(ok=False, code=500)
    with sandbox.world.lock:
        elbv2_backend(sandbox).register_service_target(stack.blue, "10.0.3.9", 8080, probe)
    sandbox.admin.advance(21)
    assert probe.seen == [
        ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")
    ]
