"""CreateService / UpdateService checks for `strategy`, its configurations, hooks and advancedConfiguration.

The ranges are the ECS API Reference's (DeploymentConfiguration, LinearConfiguration,
CanaryConfiguration, DeploymentLifecycleHook, AdvancedConfiguration); the PAUSE rules are the
Developer Guide's ("Pause hooks for Amazon ECS service deployments": not at TEST_TRAFFIC_SHIFT or
PRODUCTION_TRAFFIC_SHIFT; at most 10 pause and 10 Lambda hooks per service).
Messages say what was expected; where AWS's exact wording is not published the sandbox's own words
are used (docs/sandbox.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import AwsError
from .exceptions import InvalidParameterException
from .task_parts import AdvancedConfiguration, LoadBalancer

if TYPE_CHECKING:
    from .backend import Backend
    from .services import DeploymentConfiguration

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
NO_PAUSE_STAGES = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
MAX_BAKE_MINUTES = 1440
MAX_HOOK_TIMEOUT_MINUTES = 20160  # 14 days
MAX_HOOKS_PER_KIND = 10  # "a maximum of 10 pause hooks and 10 Lambda hooks per service"


def advanced_configuration(raw: dict[str, Any] | None) -> AdvancedConfiguration | None:
    if raw is None:
        return None
    missing = [k for k in ("alternateTargetGroupArn", "productionListenerRule", "roleArn") if not raw.get(k)]
    if missing:
        raise InvalidParameterException(
            f"advancedConfiguration requires alternateTargetGroupArn, productionListenerRule and roleArn; "
            f"missing: {', '.join(missing)}."
        )
    return AdvancedConfiguration(
        alternate_target_group_arn=raw["alternateTargetGroupArn"],
        production_listener_rule=raw["productionListenerRule"],
        test_listener_rule=raw.get("testListenerRule") or None,
        role_arn=raw["roleArn"],
    )


def check(
    backend: Backend, config: DeploymentConfiguration, load_balancers: list[LoadBalancer], *, daemon: bool
) -> None:
    strategy = config.strategy or "ROLLING"
    if strategy not in STRATEGIES:
        raise InvalidParameterException(
            f"deploymentConfiguration.strategy must be one of {', '.join(STRATEGIES)}; got {strategy}."
        )
    if config.native and daemon:
        raise InvalidParameterException(
            f"The {strategy} deployment strategy is not supported with the DAEMON scheduling strategy."
        )
    _range("deploymentConfiguration.bakeTimeInMinutes", config.bake_time_minutes, 0, MAX_BAKE_MINUTES)
    if config.linear is not None:
        _range("linearConfiguration.stepPercent", config.linear.get("stepPercent"), 3.0, 100.0)
        _range(
            "linearConfiguration.stepBakeTimeInMinutes",
            config.linear.get("stepBakeTimeInMinutes"),
            0,
            MAX_BAKE_MINUTES,
        )
    if config.canary is not None:
        _range("canaryConfiguration.canaryPercent", config.canary.get("canaryPercent"), 0.1, 100.0)
        _range(
            "canaryConfiguration.canaryBakeTimeInMinutes",
            config.canary.get("canaryBakeTimeInMinutes"),
            0,
            MAX_BAKE_MINUTES,
        )
    _check_threshold(config.breaker_threshold)
    _check_early_success(config)
    for index, hook in enumerate(config.lifecycle_hooks or []):
        _check_hook(index, hook, native=config.native)
    for kind in ("PAUSE", "AWS_LAMBDA"):
        count = sum(1 for h in config.lifecycle_hooks or [] if (h.get("targetType") or "AWS_LAMBDA") == kind)
        if count > MAX_HOOKS_PER_KIND:
            raise InvalidParameterException(
                f"deploymentConfiguration.lifecycleHooks: at most {MAX_HOOKS_PER_KIND} {kind} hooks per service; "
                f"got {count}."
            )
    if config.native:
        for lb in load_balancers:
            _check_advanced(backend, strategy, lb)


def _check_early_success(config: DeploymentConfiguration) -> None:
    """DeploymentEarlySuccessCriteria (ECS API Reference): rolling only; when enabled, healthyPercent
    (0-100, at least minimumHealthyPercent) and sourceServiceRevisionCleanup BLOCKING or DEFERRED."""
    early = config.early_success
    if not early or not early.get("enable"):
        return
    where = "deploymentConfiguration.earlySuccessCriteria"
    if config.native:
        raise InvalidParameterException(f"{where} can be used with the ROLLING deployment strategy only.")
    percent = early.get("healthyPercent")
    if percent is None or early.get("sourceServiceRevisionCleanup") not in ("BLOCKING", "DEFERRED"):
        raise InvalidParameterException(
            f"{where}: with enable true, give healthyPercent and sourceServiceRevisionCleanup (BLOCKING or DEFERRED)."
        )
    _range(f"{where}.healthyPercent", percent, 0, 100)
    if percent < config.minimum_healthy_percent:
        raise InvalidParameterException(
            f"{where}.healthyPercent ({percent}) must be at least minimumHealthyPercent "
            f"({config.minimum_healthy_percent})."
        )


def _check_threshold(threshold: dict[str, Any] | None) -> None:
    if threshold is None:
        return
    where = "deploymentCircuitBreaker.thresholdConfiguration"
    kind, value = threshold.get("type"), threshold.get("value")
    if kind not in ("COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT"):
        raise InvalidParameterException(
            f"{where}.type must be COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT; got {kind}."
        )
    if value is None or value < 1:
        raise InvalidParameterException(f"{where}.value must be a positive integer; got {value}.")


def _range(name: str, value: float | None, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidParameterException(f"{name} must be between {low:g} and {high:g}; got {value:g}.")


def _check_hook(index: int, hook: dict[str, Any], *, native: bool) -> None:
    where = f"deploymentConfiguration.lifecycleHooks[{index}]"
    if not native:
        raise InvalidParameterException(
            f"{where}: the sandbox runs lifecycle hooks for the BLUE_GREEN, LINEAR and CANARY strategies only."
        )
    kind = hook.get("targetType") or "AWS_LAMBDA"
    stages = list(hook.get("lifecycleStages") or [])
    if not stages:
        raise InvalidParameterException(f"{where}.lifecycleStages must name at least one lifecycle stage.")
    unknown = [s for s in stages if s not in HOOK_STAGES]
    if unknown:
        raise InvalidParameterException(
            f"{where}.lifecycleStages: {', '.join(unknown)} is not a lifecycle stage; expected one of "
            f"{', '.join(HOOK_STAGES)}."
        )
    if kind == "PAUSE":
        refused = [s for s in stages if s in NO_PAUSE_STAGES]
        if refused:
            raise InvalidParameterException(
                f"{where}: PAUSE lifecycle hooks are not supported for the {', '.join(refused)} lifecycle stage(s)."
            )
    elif kind == "AWS_LAMBDA":
        for member in ("hookTargetArn", "roleArn"):
            if not hook.get(member):
                raise InvalidParameterException(
                    f"{where}.{member} is required for an AWS_LAMBDA lifecycle hook."
                )
    else:
        raise InvalidParameterException(f"{where}.targetType must be AWS_LAMBDA or PAUSE; got {kind}.")
    timeout = hook.get("timeoutConfiguration")
    if timeout is not None:
        _range(f"{where}.timeoutConfiguration.timeoutInMinutes", timeout.get("timeoutInMinutes"), 1, 20160)
        if timeout.get("action") not in (None, "CONTINUE", "ROLLBACK"):
            raise InvalidParameterException(
                f"{where}.timeoutConfiguration.action must be CONTINUE or ROLLBACK; got {timeout.get('action')}."
            )


def _check_advanced(backend: Backend, strategy: str, lb: LoadBalancer) -> None:
    advanced = lb.advanced
    if advanced is None:
        raise InvalidParameterException(
            f"The {strategy} deployment strategy needs loadBalancers[].advancedConfiguration "
            f"(alternateTargetGroupArn, productionListenerRule, roleArn) for target group {lb.target_group_arn}."
        )
    elbv2 = backend.region.elbv2
    if advanced.alternate_target_group_arn == lb.target_group_arn:
        raise InvalidParameterException(
            "advancedConfiguration.alternateTargetGroupArn must differ from the load balancer's targetGroupArn."
        )
    try:
        primary = elbv2.target_group(lb.target_group_arn)
        alternate = elbv2.target_group(advanced.alternate_target_group_arn)
    except AwsError as exc:
        raise InvalidParameterException(
            f"The target group {advanced.alternate_target_group_arn} does not exist."
        ) from exc
    if alternate.target_type != primary.target_type:
        raise InvalidParameterException(
            f"The alternate target group {alternate.arn} has target type {alternate.target_type}; "
            f"expected {primary.target_type}, as the primary target group."
        )
    rules = [("productionListenerRule", advanced.production_listener_rule)]
    if advanced.test_listener_rule:
        rules.append(("testListenerRule", advanced.test_listener_rule))
    for member, rule_arn in rules:
        try:
            lb_arn = elbv2.listener_rule_load_balancer(rule_arn)
        except AwsError as exc:
            raise InvalidParameterException(
                f"advancedConfiguration.{member}: the rule {rule_arn} does not exist."
            ) from exc
        groups = elbv2.forward_weights(rule_arn)
        if not groups:
            raise InvalidParameterException(
                f"advancedConfiguration.{member}: the rule {rule_arn} has no forward action."
            )
        for group in (primary, alternate):
            if group.load_balancer_arns and lb_arn not in group.load_balancer_arns:
                raise InvalidParameterException(
                    f"advancedConfiguration.{member}: the rule {rule_arn} and the target group {group.arn} "
                    "must be on the same load balancer."
                )
