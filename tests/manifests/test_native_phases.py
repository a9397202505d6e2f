"""The phases and duration estimate of ECS-native strategies (manifests/native_phases.py): what
`corral plan` and `corral render` print, from the service definition alone."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from corral.manifests.native_phases import deployment_phases, minutes_text

ACCOUNT = "123456789012"
RULE = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener-rule/app/web/50dc6c495c0c9188"
BALANCER = {
    "targetGroupArn": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/blue/73e2d6bc24d8a067",
    "containerName": "web",
    "containerPort": 80,
    "advancedConfiguration": {
        "alternateTargetGroupArn": f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/green/2453ed029918f21f",
        "productionListenerRule": f"{RULE}/f2f7dc8efc522ab2/9683b2d02a6cabee",
        "testListenerRule": f"{RULE}/a1b2c3d4e5f60718/1683b2d02a6cabee",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers",
    },
}
PAUSE_AFTER_TEST = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
}


def service(strategy: str, **deployment: Any) -> dict[str, Any]:
    return {
        "serviceName": "web",
        "desiredCount": 2,
        "deploymentController": {"type": "ECS"},
        "deploymentConfiguration": {"strategy": strategy, **deployment},
        "loadBalancers": [copy.deepcopy(BALANCER)],
    }


def test_rolling_has_no_native_phases() -> None:
    assert deployment_phases({"serviceName": "web", "desiredCount": 2}) is None
    assert deployment_phases(service("ROLLING")) is None


def test_blue_green_with_a_pause_after_test_traffic() -> None:
    phases = deployment_phases(service("BLUE_GREEN", bakeTimeInMinutes=15, lifecycleHooks=[PAUSE_AFTER_TEST]))
    assert phases is not None
    assert phases.line() == (
        "scale up green (2 tasks) → test traffic (test listener rule → green) → "
        "[PAUSE hook at POST_TEST_TRAFFIC_SHIFT, times out after 1 h: ROLLBACK] → production 100% → "
        "bake 15 min → clean up blue"
    )
    assert [p.stage for p in phases.phases] == [
        "SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ]
    # task start 1 + ELB health checks 2.5 + bake 15 + deregistration 5; the pause may add its hour
    assert phases.estimate.minutes == pytest.approx(23.5)
    assert phases.estimate.longest_minutes == pytest.approx(83.5)
    assert phases.estimate_line() == (
        "about 23.5 min (task start 1 min + health checks 2.5 min + bake 15 min + clean up 5 min); "
        "up to 1 h 24 min if every PAUSE hook waits until it times out"
    )


def test_linear_defaults_are_ten_steps_of_ten_percent_six_minutes_apart() -> None:
    phases = deployment_phases(service("LINEAR", bakeTimeInMinutes=15))
    assert phases is not None
    shifts = [p.text for p in phases.phases if p.stage == "PRODUCTION_TRAFFIC_SHIFT" and "bake" not in p.text]
    assert shifts == [f"production {n}%" for n in range(10, 101, 10)]
    assert phases.estimate.parts["traffic step bakes"] == 54  # no step bake after 100%
    line = phases.line()
    assert line.startswith(
        "scale up green (2 tasks) → test traffic (test listener rule → green) → production 10% → "
    )
    assert line.endswith("→ … → 100% → bake 15 min → clean up blue")


@pytest.mark.parametrize(
    ("percent", "shifts", "bakes"),
    [(11, 10, 9), (25, 4, 3), (3.3, 31, 30), (100, 1, 0)],
)
def test_linear_step_count_follows_aws(percent: float, shifts: int, bakes: int) -> None:
    # AWS::ECS::Service LinearConfiguration: 100/stepPercent - 1 bakes when it divides evenly,
    # else floor(100/stepPercent) (stepPercent 11: 9)
    linear = {"stepPercent": percent, "stepBakeTimeInMinutes": 2}
    phases = deployment_phases(service("LINEAR", bakeTimeInMinutes=0, linearConfiguration=linear))
    assert phases is not None
    production = [p for p in phases.phases if p.stage == "PRODUCTION_TRAFFIC_SHIFT"]
    assert len([p for p in production if "bake" not in p.text]) == shifts
    assert production[-1].text.endswith("100%")
    assert phases.estimate.parts["traffic step bakes"] == 2 * bakes


def test_canary_defaults_five_percent_for_ten_minutes() -> None:
    phases = deployment_phases(service("CANARY", bakeTimeInMinutes=5))
    assert phases is not None
    assert "→ production 5% → bake 10 min → 100% → bake 5 min → clean up blue" in phases.line()
    assert phases.estimate.minutes == pytest.approx(1 + 2.5 + 10 + 5 + 5)


def test_a_pause_before_every_linear_step_counts_once_per_step() -> None:
    hook = {"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}
    linear = {"stepPercent": 25, "stepBakeTimeInMinutes": 1}
    phases = deployment_phases(
        service("LINEAR", bakeTimeInMinutes=0, linearConfiguration=linear, lifecycleHooks=[hook])
    )
    assert phases is not None
    # ECS's default timeout: 24 h, then ROLLBACK
    assert (
        "[PAUSE hook at PRE_PRODUCTION_TRAFFIC_SHIFT, before every step, times out after 24 h: ROLLBACK] "
        "→ production 25% → bake 1 min → 50%" in phases.line()
    )
    assert phases.estimate.longest_minutes - phases.estimate.minutes == pytest.approx(4 * 1440)


def test_lambda_hooks_are_named_by_function() -> None:
    hook = {
        "hookTargetArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:smoke-test",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/hooks",
        "lifecycleStages": ["POST_SCALE_UP", "TEST_TRAFFIC_SHIFT"],
    }
    phases = deployment_phases(service("BLUE_GREEN", bakeTimeInMinutes=1, lifecycleHooks=[hook]))
    assert phases is not None
    assert phases.line().startswith(
        "scale up green (2 tasks) → [Lambda hook smoke-test at POST_SCALE_UP] → test traffic (test listener rule "
        "→ green) → [Lambda hook smoke-test at TEST_TRAFFIC_SHIFT] → production 100%"
    )
    assert phases.estimate.longest_minutes == phases.estimate.minutes


def test_headless_blue_green_with_container_health_check() -> None:
    definition = service("BLUE_GREEN")
    del definition["loadBalancers"]
    task = {
        "containerDefinitions": [{"name": "web", "healthCheck": {"command": ["CMD", "true"], "interval": 12}}]
    }
    phases = deployment_phases(definition, task)
    assert phases is not None
    assert "test traffic: none" in phases.line()
    assert phases.estimate.parts["health checks"] == pytest.approx(12 / 60)
    assert phases.estimate.parts["clean up"] == pytest.approx(0.5)
    assert "bakeTimeInMinutes is not set: counted as 0" in phases.estimate.assumes
    assert phases.notes == ("no load balancer, Service Connect or VPC Lattice: ECS shifts no traffic",)


def test_service_connect_test_traffic_by_header() -> None:
    definition = service("CANARY", bakeTimeInMinutes=0)
    del definition["loadBalancers"]
    alias = {"port": 80, "testTrafficRules": {"header": {"name": "x-canary"}}}
    definition["serviceConnectConfiguration"] = {
        "enabled": True,
        "services": [{"portName": "http", "clientAliases": [alias]}],
    }
    phases = deployment_phases(definition)
    assert phases is not None
    assert "test traffic (Service Connect test header → green)" in phases.line()
    assert phases.notes == ()


@pytest.mark.parametrize(
    ("minutes", "text"), [(6, "6 min"), (2.5, "2.5 min"), (90, "1 h 30 min"), (1440, "24 h")]
)
def test_minutes_text(minutes: float, text: str) -> None:
    assert minutes_text(minutes) == text


def test_alarms_and_the_circuit_breaker_are_noted() -> None:
    phases = deployment_phases(
        service(
            "CANARY",
            alarms={"alarmNames": ["web-5xx", "web-latency"], "enable": True, "rollback": True},
            deploymentCircuitBreaker={"enable": True, "rollback": False},
        )
    )
    assert phases is not None
    assert phases.notes == (
        "alarms web-5xx, web-latency: the deployment rolls back if one goes to ALARM",
        "circuit breaker: the deployment fails after 3 failed tasks (BOUNDED_PERCENT 50% of 2 desired) "
        "(a task that becomes healthy resets the count)",
    )
    assert phases.to_dict()["notes"] == list(phases.notes)


@pytest.mark.parametrize(
    ("threshold", "desired", "says"),
    [
        ({"type": "COUNT", "value": 1}, 2, "after 1 failed task"),
        ({"type": "COUNT", "value": 7}, 2, "after 7 failed tasks"),
        # 50% of 40 is 20; BOUNDED_PERCENT keeps it within 3-200, UNBOUNDED_PERCENT does not
        (
            {"type": "BOUNDED_PERCENT", "value": 50},
            40,
            "after 20 failed tasks (BOUNDED_PERCENT 50% of 40 desired)",
        ),
        (
            {"type": "BOUNDED_PERCENT", "value": 10},
            4,
            "after 3 failed tasks (BOUNDED_PERCENT 10% of 4 desired)",
        ),
        ({"type": "BOUNDED_PERCENT", "value": 50}, 1000, "after 200 failed tasks"),
        ({"type": "UNBOUNDED_PERCENT", "value": 50}, 1000, "after 500 failed tasks (UNBOUNDED_PERCENT 50%"),
        ({"type": "UNBOUNDED_PERCENT", "value": 25}, 2, "after 1 failed task (UNBOUNDED_PERCENT 25% of 2"),
        (
            {"type": "BOUNDED_PERCENT", "value": 30},
            None,
            "failed tasks reach 30% of the desired count, at least 3",
        ),
    ],
)
def test_the_circuit_breaker_threshold_is_said_in_failed_tasks(
    threshold: dict[str, Any], desired: int | None, says: str
) -> None:
    definition = service(
        "LINEAR",
        deploymentCircuitBreaker={"enable": True, "rollback": True, "thresholdConfiguration": threshold},
    )
    definition["desiredCount"] = desired
    phases = deployment_phases(definition)
    assert phases is not None
    (note,) = phases.notes
    assert note.startswith("circuit breaker: the deployment rolls back ") and says in note


def test_a_circuit_breaker_that_keeps_counting_says_so() -> None:
    breaker = {"enable": True, "rollback": True, "resetOnHealthyTask": False}
    phases = deployment_phases(service("BLUE_GREEN", deploymentCircuitBreaker=breaker))
    assert phases is not None
    assert phases.notes[-1].endswith("(the count is not reset when a task becomes healthy)")
    breaker["enable"] = False
    phases = deployment_phases(service("BLUE_GREEN", deploymentCircuitBreaker=breaker))
    assert phases is not None and not any("circuit breaker" in n for n in phases.notes)
