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

The deployment circuit breaker and early success criteria (botocore 1.44's model text; API
Reference DeploymentCircuitBreaker, ThresholdConfiguration, DeploymentEarlySuccessCriteria;
Developer Guide early-success-criteria):

- both are for the ECS deployment controller only ("can only be used for services using the
  rolling update (ECS) deployment type"); an enabled one under CODE_DEPLOY or EXTERNAL is refused;
- `thresholdConfiguration {type, value}`: the shape checks the type (COUNT, BOUNDED_PERCENT,
  UNBOUNDED_PERCENT) and that both are given. AWS states no range for `value` beyond "integer":
  COUNT uses it as the number of failed tasks, the percent types multiply it (a percent) by the
  desired count, BOUNDED_PERCENT clamped to 3-200 failed tasks (ThresholdType in the AWS SDK
  for Python reference; ServiceDeploymentCircuitBreaker.threshold). So a negative value is
  refused everywhere, and 0 where nothing raises it (COUNT, UNBOUNDED_PERCENT): the breaker
  would fail the deployment before any task failed;
- `earlySuccessCriteria` is for the ROLLING strategy only ("You can use early success criteria
  only with rolling deployment strategy"); enabled, it needs `healthyPercent` and
  `sourceServiceRevisionCleanup` ("You must also specify ..."); `healthyPercent` (0-100, in the
  shape) "must be greater than or equal to the minimumHealthyPercent value", whose default is
  100 for REPLICA services and 0 for DAEMON ones (reference/ecs-control-plane.md).

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
THRESHOLD_TYPES = ("COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT")
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
    """Every ECS rule for native strategies, the circuit breaker and early success the service
    definition breaks, in document order."""
    config = service.get("deploymentConfiguration")
    if not isinstance(config, dict):
        return []
    return [
        Problem(source, format_path(path), message)
        for rule in (
            _controller,
            _strategy_settings,
            _traffic,
            _load_balancers,
            _hooks,
            _circuit_breaker,
            _early_success,
        )
        for path, message in rule(service, config)
    ]


def strategy_of(service: dict[str, Any]) -> str:
    """The deployment strategy a service definition asks for (ECS's default: ROLLING)."""
    config = service.get("deploymentConfiguration")
    strategy = config.get("strategy") if isinstance(config, dict) else None
    return strategy if isinstance(strategy, str) and strategy else "ROLLING"


def native_strategy(service: dict[str, Any]) -> str | None:
    """BLUE_GREEN, LINEAR or CANARY when ECS deploys the service with its own strategy (the ECS
    controller, the default when `deploymentController` is absent); None otherwise."""
    controller = service.get("deploymentController")
    kind = controller.get("type") if isinstance(controller, dict) else None
    strategy = strategy_of(service)
    return strategy if kind in (None, "ECS") and strategy in NATIVE_STRATEGIES else None


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
    for key in ("deploymentCircuitBreaker", "earlySuccessCriteria"):
        settings = config.get(key)
        if isinstance(settings, dict) and settings.get("enable") is True:
            yield (
                ["deploymentConfiguration", key],
                f"{key} is only used by the ECS deployment controller; deploymentController.type is {kind} "
                "(set enable: false or leave it out)",
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


def _circuit_breaker(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    breaker = config.get("deploymentCircuitBreaker")
    threshold = breaker.get("thresholdConfiguration") if isinstance(breaker, dict) else None
    if not isinstance(threshold, dict):
        return
    kind, value = threshold.get("type") or "BOUNDED_PERCENT", threshold.get("value")
    if not _number(value) or kind not in THRESHOLD_TYPES:
        return
    at: Path = ["deploymentConfiguration", "deploymentCircuitBreaker", "thresholdConfiguration", "value"]
    if value < 0:
        what = "a number of failed tasks" if kind == "COUNT" else "a percent of the desired count"
        yield at, f"expected {what} (0 or more); got {value}"
    elif value == 0 and kind != "BOUNDED_PERCENT":
        yield (
            at,
            f"a {kind} threshold of 0 fails the deployment before any task failed; expected 1 or more "
            "(BOUNDED_PERCENT keeps the threshold between 3 and 200 failed tasks)",
        )


def _early_success(service: dict[str, Any], config: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    criteria = config.get("earlySuccessCriteria")
    if not isinstance(criteria, dict) or criteria.get("enable") is not True:
        return
    at: Path = ["deploymentConfiguration", "earlySuccessCriteria"]
    strategy = config.get("strategy")
    if strategy in NATIVE_STRATEGIES:
        yield (
            at,
            f"earlySuccessCriteria is only used with the ROLLING strategy; strategy is {strategy} "
            "(its bake time and lifecycle hooks decide when it is done)",
        )
        return
    for key, what in (
        ("healthyPercent", "the percent of the desired count that must be healthy for ECS to finish early"),
        (
            "sourceServiceRevisionCleanup",
            "BLOCKING or DEFERRED (remove the old tasks before or after it is done)",
        ),
    ):
        if criteria.get(key) is None:
            yield [*at, key], f"missing: {what}; early success criteria need it when enable is true"
    healthy = criteria.get("healthyPercent")
    minimum = config.get("minimumHealthyPercent")
    default = minimum is None
    if default:
        minimum = 0 if service.get("schedulingStrategy") == "DAEMON" else 100
    if _number(healthy) and _number(minimum) and healthy < minimum:
        said = f"{minimum} (ECS's default for REPLICA services)" if default else str(minimum)
        yield (
            [*at, "healthyPercent"],
            f"expected at least minimumHealthyPercent, which is {said}; got {healthy} "
            "(lower minimumHealthyPercent to complete earlier)",
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
