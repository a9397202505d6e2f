"""ECS's rules for its own deployment strategies (BLUE_GREEN, LINEAR, CANARY), checked on a
converted service definition before anything is sent (reference/ecs-native-deployments.md).

What the API shape cannot say, each from AWS's documentation (botocore's ECS model text, the
API Reference and the Developer Guide pages named below):

- a native strategy, bake time or lifecycle hook needs the ECS deployment controller
  (LinearConfiguration, CanaryConfiguration: "only valid when ... deploymentController set to
  ECS"); `linearConfiguration` goes with LINEAR only, `canaryConfiguration` with CANARY only;
- LINEAR `stepPercent` a multiple of 0.1 from 3.0 to 100.0, `stepBakeTimeInMinutes` 0-1440;
  CANARY `canaryPercent` a multiple of 0.1 from 0.1 to 100.0, `canaryBakeTimeInMinutes`
  0-1440; `bakeTimeInMinutes` 0-1440 (API_LinearConfiguration, API_CanaryConfiguration);
- LINEAR and CANARY shift traffic, so the service needs Elastic Load Balancing, Service Connect
  or VPC Lattice (linear-deployment-implementation, canary-deployment-implementation); a
  BLUE_GREEN service without them is allowed (ECS then manages no traffic shift);
- with a native strategy every load balancer needs `advancedConfiguration` (ECS answers
  "advancedConfiguration field is required for all loadBalancers when using the linear
  deployment strategy"), with `alternateTargetGroupArn` (required in AWS::ECS::Service
  AdvancedConfiguration) other than `targetGroupArn`, the `productionListenerRule` ECS moves
  production traffic on, and the `roleArn` ECS uses to call Elastic Load Balancing
  (AmazonECSInfrastructureRolePolicyForLoadBalancers); `testListenerRule` is optional. The
  production and test listener rules are on one load balancer (both ARNs name it);
- a lifecycle hook names its `lifecycleStages`; an AWS_LAMBDA hook (the default target type)
  needs `hookTargetArn` (a Lambda function) and `roleArn` (blue-green-permissions); a PAUSE
  hook cannot be at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT (pause-lifecycle-hooks).
  The hook timeout's range (1-20160 minutes, 14 days) is in the shape and checked there.

Values that are still expressions (a runtime input at validate time) are not judged here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TypeGuard

from corral.errors import Problem, format_path

NATIVE_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")
MAX_BAKE_MINUTES = 1440
PAUSE_NOT_AT = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
# arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/ID/LISTENER/RULE (ALB)
# or ...:listener/net/NAME/ID/LISTENER (NLB): the load balancer is the part after the kind
LISTENER_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):(\d{12}):"
    r"(listener-rule|listener)/((app|net)/[^/]+/[^/]+)/[^/]+(/[^/]+)?$"
)
_TARGET_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[^/]+/[^/]+$"
)
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$")

Path = list[str | int]


def native_strategy_problems(service: dict[str, Any], source: str) -> list[Problem]:
    """Every ECS rule for native strategies the service definition breaks, in document order."""
    config = service.get("deploymentConfiguration")
    if not isinstance(config, dict):
        return []
    return [
        Problem(source, format_path(path), message)
        for rule in (_controller, _strategy_settings, _traffic, _load_balancers, _hooks)
        for path, message in rule(service, config)
    ]


def strategy_of(service: dict[str, Any]) -> str:
    """The deployment strategy a service definition asks for (ECS's default: ROLLING)."""
    config = service.get("deploymentConfiguration")
    strategy = config.get("strategy") if isinstance(config, dict) else None
    return strategy if isinstance(strategy, str) and strategy else "ROLLING"


# -- rules --------------------------------------------------------------------------------------


def _controller(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    controller = service.get("deploymentController")
    kind = controller.get("type") if isinstance(controller, dict) else None
    if kind in (None, "ECS") or _unresolved(kind):
        return
    strategy = config.get("strategy")
    if strategy in NATIVE_STRATEGIES:
        yield (
            ["deploymentConfiguration", "strategy"],
            f"strategy {strategy} needs the ECS deployment controller; deploymentController.type is {kind} "
            "(set it to ECS or leave deploymentController out)",
        )
        return
    for key in ("bakeTimeInMinutes", "lifecycleHooks", "linearConfiguration", "canaryConfiguration"):
        if key in config:
            yield (
                ["deploymentConfiguration", key],
                f"{key} is only used by the ECS deployment controller; deploymentController.type is {kind}",
            )


def _strategy_settings(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    strategy = config.get("strategy")
    at: Path = ["deploymentConfiguration"]
    yield from _minutes(config, "bakeTimeInMinutes", at)
    for key, wanted in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
        settings = config.get(key)
        if settings is None:
            continue
        if strategy != wanted and not _unresolved(strategy):
            yield (
                [*at, key],
                f"{key} is only used with strategy {wanted}; strategy is {strategy or 'ROLLING'}",
            )
        if isinstance(settings, dict):
            percent = "stepPercent" if wanted == "LINEAR" else "canaryPercent"
            low = 3.0 if wanted == "LINEAR" else 0.1
            yield from _percent(settings, percent, low, [*at, key])
            bake = "stepBakeTimeInMinutes" if wanted == "LINEAR" else "canaryBakeTimeInMinutes"
            yield from _minutes(settings, bake, [*at, key])


def _traffic(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    strategy = config.get("strategy")
    if strategy not in ("LINEAR", "CANARY") or shifts_traffic(service):
        return
    yield (
        ["deploymentConfiguration", "strategy"],
        f"strategy {strategy} shifts traffic step by step: the service needs loadBalancers "
        "(with advancedConfiguration), serviceConnectConfiguration or vpcLatticeConfigurations; "
        "it has none",
    )


def _load_balancers(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    strategy = config.get("strategy")
    if strategy not in NATIVE_STRATEGIES:
        return
    for i, balancer in enumerate(service.get("loadBalancers") or []):
        if not isinstance(balancer, dict):
            continue
        at: Path = ["loadBalancers", i]
        advanced = balancer.get("advancedConfiguration")
        if not isinstance(advanced, dict):
            yield (
                at,
                f"strategy {strategy} needs advancedConfiguration on every load balancer "
                "(alternateTargetGroupArn, productionListenerRule, roleArn; testListenerRule optional)",
            )
            continue
        yield from _advanced(balancer, advanced, [*at, "advancedConfiguration"])


def _advanced(balancer: dict[str, Any], advanced: dict[str, Any], at: Path) -> Iterator[tuple[Path, str]]:
    needed = {
        "alternateTargetGroupArn": "the alternate target group ECS registers the new revision's tasks in",
        "productionListenerRule": "the listener rule (ALB) or listener (NLB) ECS moves production traffic on",
        "roleArn": "the IAM role ECS uses to change the listener rules (the ECS infrastructure role "
        "for load balancers)",
    }
    for key, what in needed.items():
        if not advanced.get(key):
            yield [*at, key], f"missing: {what}"
    alternate = advanced.get("alternateTargetGroupArn")
    if _is_arn(alternate) and not _TARGET_GROUP_ARN.match(alternate):
        yield [*at, "alternateTargetGroupArn"], f"expected a target group ARN; got {alternate!r}"
    elif alternate and alternate == balancer.get("targetGroupArn"):
        yield (
            [*at, "alternateTargetGroupArn"],
            "the alternate target group must differ from targetGroupArn (ECS moves traffic between the two)",
        )
    balancers: dict[str, tuple[str, ...]] = {}
    for key in ("productionListenerRule", "testListenerRule"):
        value = advanced.get(key)
        if not _is_arn(value):
            continue
        found = LISTENER_ARN.match(value)
        if found is None:
            yield (
                [*at, key],
                f"expected a listener rule ARN (Application Load Balancer) or listener ARN "
                f"(Network Load Balancer); got {value!r}",
            )
        else:
            balancers[key] = (found.group(1), found.group(2), found.group(4))
    production, test = balancers.get("productionListenerRule"), balancers.get("testListenerRule")
    if production and test and production != test:
        yield (
            [*at, "testListenerRule"],
            f"the test listener rule is on load balancer {test[2]}, the production listener rule on "
            f"{production[2]}: both must be on the same load balancer",
        )


def _hooks(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    for i, hook in enumerate(config.get("lifecycleHooks") or []):
        if isinstance(hook, dict):
            yield from _hook(hook, ["deploymentConfiguration", "lifecycleHooks", i])


def _hook(hook: dict[str, Any], at: Path) -> Iterator[tuple[Path, str]]:
    target = hook.get("targetType") or "AWS_LAMBDA"
    stages = hook.get("lifecycleStages")
    if not stages:
        yield [*at, "lifecycleStages"], "missing: the lifecycle stages the hook runs at"
    if target == "PAUSE":
        for j, stage in enumerate(stages or []):
            if stage in PAUSE_NOT_AT:
                yield (
                    [*at, "lifecycleStages", j],
                    f"a PAUSE hook cannot be at {stage} (only AWS_LAMBDA hooks run there); pause at "
                    f"POST_{stage} or PRE_PRODUCTION_TRAFFIC_SHIFT instead"
                    if stage == "TEST_TRAFFIC_SHIFT"
                    else f"a PAUSE hook cannot be at {stage} (only AWS_LAMBDA hooks run there); pause at "
                    "PRE_PRODUCTION_TRAFFIC_SHIFT or POST_PRODUCTION_TRAFFIC_SHIFT instead",
                )
        return
    if target != "AWS_LAMBDA":
        return
    arn = hook.get("hookTargetArn")
    if not arn:
        yield (
            [*at, "hookTargetArn"],
            "missing: an AWS_LAMBDA hook needs the ARN of the Lambda function to call",
        )
    elif _is_arn(arn) and not _LAMBDA_ARN.match(arn):
        yield [*at, "hookTargetArn"], f"expected a Lambda function ARN; got {arn!r}"
    if not hook.get("roleArn"):
        yield (
            [*at, "roleArn"],
            "missing: an AWS_LAMBDA hook needs the IAM role ECS uses to invoke the function",
        )


# -- helpers ------------------------------------------------------------------------------------


def _minutes(settings: dict[str, Any], key: str, at: Path) -> Iterator[tuple[Path, str]]:
    value = settings.get(key)
    if _number(value) and not 0 <= value <= MAX_BAKE_MINUTES:
        yield [*at, key], f"expected 0 to {MAX_BAKE_MINUTES} minutes (24 hours); got {value}"


def _percent(settings: dict[str, Any], key: str, low: float, at: Path) -> Iterator[tuple[Path, str]]:
    value = settings.get(key)
    if not _number(value):
        return
    tenths = value * 10
    if not low <= value <= 100 or abs(tenths - round(tenths)) > 1e-6:
        yield [*at, key], f"expected a multiple of 0.1 from {low} to 100.0; got {value}"


def shifts_traffic(service: dict[str, Any]) -> bool:
    """The service has something ECS can shift traffic on: ELB, Service Connect or VPC Lattice."""
    connect = service.get("serviceConnectConfiguration")
    return bool(
        service.get("loadBalancers")
        or (isinstance(connect, dict) and connect.get("enabled") is not False)
        or service.get("vpcLatticeConfigurations")
    )


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_arn(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith("arn:")


def _unresolved(value: Any) -> bool:
    return isinstance(value, str) and "<+" in value
