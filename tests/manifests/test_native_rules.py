"""What the native strategy rules accept (the bad-input cases native_* show what they refuse)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from corral.manifests import ManifestKind, check_ecs_rules, check_manifest, to_api
from corral.manifests.native_phases import deployment_phases
from corral.manifests.native_rules import THRESHOLD_TYPES, native_strategy_problems

from .test_native_phases import PAUSE_AFTER_TEST, service

YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def problems(definition: dict[str, Any]) -> list[str]:
    return [str(p) for p in native_strategy_problems(definition, "service.yaml")]


def test_a_complete_native_service_passes_every_ecs_rule() -> None:
    lambda_hook = {
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke:live",
        "roleArn": "arn:aws:iam::123456789012:role/hooks",
        "lifecycleStages": ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"],
    }
    for strategy, extra in (
        ("BLUE_GREEN", {}),
        ("LINEAR", {"linearConfiguration": {"stepPercent": 3.3, "stepBakeTimeInMinutes": 1440}}),
        ("CANARY", {"canaryConfiguration": {"canaryPercent": 0.1, "canaryBakeTimeInMinutes": 0}}),
    ):
        definition = service(
            strategy, bakeTimeInMinutes=0, lifecycleHooks=[PAUSE_AFTER_TEST, lambda_hook], **extra
        )
        assert check_ecs_rules(None, definition, source_task="task.yaml", source_service="service.yaml") == []


def test_rolling_services_are_left_as_they_were() -> None:
    assert problems({"deploymentController": {"type": "CODE_DEPLOY"}, "deploymentConfiguration": {}}) == []
    assert problems({"deploymentConfiguration": {"strategy": "ROLLING", "maximumPercent": 200}}) == []


def test_the_controller_may_be_left_out() -> None:
    definition = service("BLUE_GREEN")
    del definition["deploymentController"]
    assert problems(definition) == []


def test_headless_blue_green_and_service_connect_linear_are_allowed() -> None:
    headless = service("BLUE_GREEN")
    del headless["loadBalancers"]
    assert problems(headless) == []
    connect = service("LINEAR")
    del connect["loadBalancers"]
    connect["serviceConnectConfiguration"] = {"enabled": True, "namespace": "corral"}
    assert problems(connect) == []
    connect["serviceConnectConfiguration"]["enabled"] = False
    assert len(problems(connect)) == 1


def test_network_load_balancer_listeners_on_one_load_balancer() -> None:
    definition = service("LINEAR")
    listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/50dc6c495c0c9188"
    advanced = definition["loadBalancers"][0]["advancedConfiguration"]
    advanced.update(
        productionListenerRule=f"{listener}/f2f7dc8efc522ab2", testListenerRule=f"{listener}/a2f7dc8efc522ab3"
    )
    assert problems(definition) == []
    advanced["testListenerRule"] = advanced["testListenerRule"].replace("net/web/50dc", "net/web/60dc")
    assert problems(definition) == [
        "service.yaml: loadBalancers[0].advancedConfiguration.testListenerRule: the test listener rule is on load "
        "balancer net/web/60dc6c495c0c9188, the production listener rule on net/web/50dc6c495c0c9188: both must "
        "be on the same load balancer"
    ]


def test_values_still_expressions_are_not_judged() -> None:
    definition = service("<+serviceVariables.strategy>", linearConfiguration={"stepPercent": 10})
    definition["deploymentController"] = {"type": "<+serviceVariables.controller>"}
    advanced = definition["loadBalancers"][0]["advancedConfiguration"]
    advanced["testListenerRule"] = "<+serviceVariables.testRule>"
    assert problems(copy.deepcopy(definition)) == []


def test_the_documented_examples_pass_the_rules() -> None:
    """docs/configuration.md's example per strategy validates: shape, ECS rules, phases."""
    text = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = text.split("#### ECS's own deployment strategies", 1)[1].split("\n### ", 1)[0]
    blue_green, linear, canary = (yaml.safe_load(block) for block in YAML_BLOCK.findall(section)[:3])
    linear = {**linear, "serviceName": "web", "loadBalancers": blue_green["loadBalancers"]}
    canary = {**canary, "serviceName": "web"}
    for definition, strategy in ((blue_green, "BLUE_GREEN"), (linear, "LINEAR"), (canary, "CANARY")):
        checked = check_manifest(ManifestKind.SERVICE_DEFINITION, definition, source="docs")
        assert checked.problems == [] and checked.warnings == [], strategy
        request = to_api(ManifestKind.SERVICE_DEFINITION, definition)
        assert check_ecs_rules(None, request, source_task="task", source_service="docs") == [], strategy
        phases = deployment_phases(request)
        assert phases is not None and phases.strategy == strategy


def test_circuit_breaker_thresholds_and_early_success_are_sent() -> None:
    """botocore >= 1.44 has thresholdConfiguration, resetOnHealthyTask and earlySuccessCriteria:
    no warning, and they reach the request as written."""
    definition = service("BLUE_GREEN")
    breaker = {
        "enable": True,
        "rollback": True,
        "resetOnHealthyTask": False,
        "thresholdConfiguration": {"type": "COUNT", "value": 3},
    }
    definition["deploymentConfiguration"]["deploymentCircuitBreaker"] = breaker
    checked = check_manifest(ManifestKind.SERVICE_DEFINITION, definition, source="service.yaml")
    assert checked.problems == [] and checked.warnings == []
    request = to_api(ManifestKind.SERVICE_DEFINITION, definition)
    assert request["deploymentConfiguration"]["deploymentCircuitBreaker"] == breaker
    assert problems(request) == []

    rolling = {
        "serviceName": "web",
        "desiredCount": 4,
        "deploymentConfiguration": {
            "minimumHealthyPercent": 50,
            "earlySuccessCriteria": {
                "enable": True,
                "healthyPercent": 75,
                "sourceServiceRevisionCleanup": "DEFERRED",
            },
        },
    }
    checked = check_manifest(ManifestKind.SERVICE_DEFINITION, rolling, source="service.yaml")
    assert checked.problems == [] and checked.warnings == []
    request = to_api(ManifestKind.SERVICE_DEFINITION, rolling)
    assert request["deploymentConfiguration"]["earlySuccessCriteria"]["healthyPercent"] == 75
    assert problems(request) == []


def test_the_shape_checks_the_threshold_type_and_the_healthy_percent_range() -> None:
    definition = service("LINEAR")
    config = definition["deploymentConfiguration"]
    config["deploymentCircuitBreaker"] = {
        "enable": True,
        "rollback": True,
        "thresholdConfiguration": {"type": "PERCENT", "value": 5},
    }
    config["earlySuccessCriteria"] = {"enable": False, "healthyPercent": 101}
    checked = check_manifest(ManifestKind.SERVICE_DEFINITION, definition, source="service.yaml")
    assert [(p.path, p.message) for p in checked.problems] == [
        (
            "deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.type",
            "expected one of COUNT, BOUNDED_PERCENT, UNBOUNDED_PERCENT; got 'PERCENT'",
        ),
        ("deploymentConfiguration.earlySuccessCriteria.healthyPercent", "must be at most 100, got 101"),
    ]


def test_threshold_values_ecs_can_use() -> None:
    for kind, value in (
        ("COUNT", 1),
        ("BOUNDED_PERCENT", 0),
        ("UNBOUNDED_PERCENT", 150),
        ("BOUNDED_PERCENT", 400),
    ):
        definition = service("CANARY", canaryConfiguration={"canaryPercent": 10})
        breaker = {"enable": True, "rollback": True, "thresholdConfiguration": {"type": kind, "value": value}}
        definition["deploymentConfiguration"]["deploymentCircuitBreaker"] = breaker
        assert problems(definition) == [], (kind, value)


def test_early_success_measured_against_the_default_minimum_healthy_percent() -> None:
    criteria = {"enable": True, "healthyPercent": 100, "sourceServiceRevisionCleanup": "BLOCKING"}
    rolling = {"serviceName": "web", "deploymentConfiguration": {"earlySuccessCriteria": criteria}}
    assert problems(rolling) == []  # 100 >= ECS's default minimumHealthyPercent for REPLICA (100)
    daemon = {**rolling, "schedulingStrategy": "DAEMON"}
    daemon["deploymentConfiguration"] = {"earlySuccessCriteria": {**criteria, "healthyPercent": 0}}
    assert problems(daemon) == []  # DAEMON's default is 0
    off = {
        "serviceName": "web",
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "earlySuccessCriteria": {"enable": False}},
    }
    assert problems(off) == []  # turned off, it asks nothing of the strategy


# every member the rules and the phases read, as CreateService's request names it
READ_MEMBERS = [
    "deploymentController.type",
    "deploymentConfiguration.strategy",
    "deploymentConfiguration.bakeTimeInMinutes",
    "deploymentConfiguration.linearConfiguration.stepPercent",
    "deploymentConfiguration.linearConfiguration.stepBakeTimeInMinutes",
    "deploymentConfiguration.canaryConfiguration.canaryPercent",
    "deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes",
    "deploymentConfiguration.lifecycleHooks.targetType",
    "deploymentConfiguration.lifecycleHooks.hookTargetArn",
    "deploymentConfiguration.lifecycleHooks.roleArn",
    "deploymentConfiguration.lifecycleHooks.lifecycleStages",
    "deploymentConfiguration.lifecycleHooks.timeoutConfiguration.timeoutInMinutes",
    "deploymentConfiguration.lifecycleHooks.timeoutConfiguration.action",
    "deploymentConfiguration.minimumHealthyPercent",
    "deploymentConfiguration.deploymentCircuitBreaker.enable",
    "deploymentConfiguration.deploymentCircuitBreaker.rollback",
    "deploymentConfiguration.deploymentCircuitBreaker.resetOnHealthyTask",
    "deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.type",
    "deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.value",
    "deploymentConfiguration.earlySuccessCriteria.enable",
    "deploymentConfiguration.earlySuccessCriteria.healthyPercent",
    "deploymentConfiguration.earlySuccessCriteria.sourceServiceRevisionCleanup",
    "deploymentConfiguration.alarms.enable",
    "deploymentConfiguration.alarms.rollback",
    "deploymentConfiguration.alarms.alarmNames",
    "schedulingStrategy",
    "loadBalancers.targetGroupArn",
    "loadBalancers.advancedConfiguration.alternateTargetGroupArn",
    "loadBalancers.advancedConfiguration.productionListenerRule",
    "loadBalancers.advancedConfiguration.testListenerRule",
    "loadBalancers.advancedConfiguration.roleArn",
    "serviceConnectConfiguration.enabled",
    "serviceConnectConfiguration.services.clientAliases.testTrafficRules",
    "vpcLatticeConfigurations",
    "desiredCount",
]


def test_every_member_read_is_in_botocores_ecs_model() -> None:
    from corral.manifests.shapes import input_shape

    for dotted in READ_MEMBERS:
        shape = input_shape("ecs", "CreateService")
        for name in dotted.split("."):
            while shape.type_name == "list":
                shape = shape.member
            assert name in shape.members, dotted
            shape = shape.members[name]
    hook = input_shape("ecs", "CreateService").members["deploymentConfiguration"].members["lifecycleHooks"]
    assert hook.member.members["lifecycleStages"].member.enum == [
        "RECONCILE_SERVICE",
        "PRE_SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
    ]
    config = input_shape("ecs", "CreateService").members["deploymentConfiguration"]
    threshold = config.members["deploymentCircuitBreaker"].members["thresholdConfiguration"]
    assert threshold.members["type"].enum == list(THRESHOLD_TYPES)
