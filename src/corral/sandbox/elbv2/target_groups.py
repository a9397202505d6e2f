"""Target groups: settings, health check defaults per protocol, attributes and their validation.

A `TargetGroup` is also what the ECS emulation reads through the contract
(`Backend.target_group(arn)`): `.arn, .name, .port, .protocol, .target_type,
.deregistration_delay, .load_balancer_arns` and the health check settings.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .exceptions import InvalidConfigurationRequest, ValidationError

if TYPE_CHECKING:
    from .targets import RegisteredTarget

ALB_PROTOCOLS = ("HTTP", "HTTPS")
NLB_PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP")
PROTOCOLS = (*ALB_PROTOCOLS, *NLB_PROTOCOLS, "GENEVE")
TARGET_TYPES = ("instance", "ip", "lambda", "alb")
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
TargetKey = tuple[str, int | None]


@dataclass(eq=False)
class HealthCheck:
    enabled: bool
    protocol: str | None
    port: str | None
    path: str | None
    interval: int
    timeout: int
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: dict[str, str] | None

    def matches(self, code: int | None) -> bool:
        """Whether an HTTP status code satisfies the matcher (`200`, `200,202`, `200-299`)."""
        if self.protocol not in ALB_PROTOCOLS or not self.matcher or "HttpCode" not in self.matcher:
            return True
        if code is None:
            return False
        for part in self.matcher["HttpCode"].split(","):
            low, _, high = part.strip().partition("-")
            if int(low) <= code <= int(high or low):
                return True
        return False


def default_health_check(protocol: str | None, protocol_version: str | None, target_type: str) -> HealthCheck:
    """The settings AWS fills in when CreateTargetGroup leaves them out."""
    if target_type == "lambda":
        return HealthCheck(False, None, None, "/", 35, 30, 5, 2, {"HttpCode": "200"})
    if protocol in ALB_PROTOCOLS:
        if protocol_version == "GRPC":
            return HealthCheck(
                True, protocol, "traffic-port", "/AWS.ALB/healthcheck", 30, 5, 5, 2, {"GrpcCode": "12"}
            )
        return HealthCheck(True, protocol, "traffic-port", "/", 30, 5, 5, 2, {"HttpCode": "200"})
    if protocol == "GENEVE":
        return HealthCheck(True, "TCP", "80", None, 10, 5, 5, 2, None)
    if target_type == "alb":
        return HealthCheck(True, "HTTP", "traffic-port", "/", 30, 6, 5, 2, {"HttpCode": "200-399"})
    return HealthCheck(True, "TCP", "traffic-port", None, 30, 10, 5, 2, None)


def with_health_settings(current: HealthCheck, params: dict[str, Any], target_type: str) -> HealthCheck:
    """`current` changed by CreateTargetGroup / ModifyTargetGroup health check parameters, validated."""
    health = dataclasses.replace(current)
    if "HealthCheckProtocol" in params:
        protocol = params["HealthCheckProtocol"]
        if protocol not in ("HTTP", "HTTPS", "TCP"):
            raise ValidationError(f"Health check protocol '{protocol}' is not supported")
        if protocol in ALB_PROTOCOLS and health.protocol not in ALB_PROTOCOLS:
            health.path = health.path or "/"
            health.matcher = health.matcher or {"HttpCode": "200-399"}
        health.protocol = protocol
    simple = {
        "HealthCheckEnabled": "enabled",
        "HealthCheckPort": "port",
        "HealthCheckPath": "path",
        "HealthCheckIntervalSeconds": "interval",
        "HealthCheckTimeoutSeconds": "timeout",
        "HealthyThresholdCount": "healthy_threshold",
        "UnhealthyThresholdCount": "unhealthy_threshold",
        "Matcher": "matcher",
    }
    for key, attr in simple.items():
        if key in params:
            setattr(health, attr, params[key])
    _check_range("HealthCheckIntervalSeconds", health.interval, 5, 300)
    _check_range("HealthCheckTimeoutSeconds", health.timeout, 2, 120)
    _check_range("HealthyThresholdCount", health.healthy_threshold, 2, 10)
    _check_range("UnhealthyThresholdCount", health.unhealthy_threshold, 2, 10)
    if health.enabled and health.timeout >= health.interval:
        raise InvalidConfigurationRequest("Health check interval must be greater than the timeout.")
    if health.path is not None and not health.path.startswith("/"):
        raise ValidationError("Health check path must begin with a '/' character")
    if health.port not in (None, "traffic-port") and not (
        str(health.port).isdigit() and 1 <= int(health.port) <= 65535
    ):
        raise ValidationError(
            f"Health check port '{health.port}' must be 'traffic-port' or a port from 1 to 65535"
        )
    if not health.enabled and target_type != "lambda":
        raise InvalidConfigurationRequest(
            f"Health checks cannot be disabled for target groups with target type '{target_type}'"
        )
    return health


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}, got {value}")


# ---------------------------------------------------------------- attributes

Validator = Callable[[str], bool]


def _int_between(low: int, high: int) -> Validator:
    def check(value: str) -> bool:
        return value.lstrip("-").isdigit() and low <= int(value) <= high

    return check


def _one_of(*choices: str) -> Validator:
    def check(value: str) -> bool:
        return value in choices

    return check


def _slow_start(value: str) -> bool:
    return value.isdigit() and (int(value) == 0 or 30 <= int(value) <= 900)


def _count_or_off(value: str) -> bool:
    return value == "off" or (value.isdigit() and 1 <= int(value) <= 100)


def _anything(value: str) -> bool:
    return True


BOOL = _one_of("true", "false")
HEALTH_ATTRIBUTES: dict[str, tuple[str, Validator]] = {
    "target_group_health.dns_failover.minimum_healthy_targets.count": ("1", _count_or_off),
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": ("off", _count_or_off),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": ("1", _count_or_off),
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": ("off", _count_or_off),
}
CROSS_ZONE = ("use_load_balancer_configuration", _one_of("true", "false", "use_load_balancer_configuration"))
ALB_ATTRIBUTES: dict[str, tuple[str, Validator]] = {
    "deregistration_delay.timeout_seconds": ("300", _int_between(0, 3600)),
    "stickiness.enabled": ("false", BOOL),
    "stickiness.type": ("lb_cookie", _one_of("lb_cookie", "app_cookie")),
    "stickiness.lb_cookie.duration_seconds": ("86400", _int_between(1, 604800)),
    "stickiness.app_cookie.cookie_name": ("", _anything),
    "stickiness.app_cookie.duration_seconds": ("86400", _int_between(1, 604800)),
    "slow_start.duration_seconds": ("0", _slow_start),
    "load_balancing.algorithm.type": (
        "round_robin",
        _one_of("round_robin", "least_outstanding_requests", "weighted_random"),
    ),
    "load_balancing.algorithm.anomaly_mitigation": ("off", _one_of("on", "off")),
    "load_balancing.cross_zone.enabled": CROSS_ZONE,
    **HEALTH_ATTRIBUTES,
}
NLB_ATTRIBUTES: dict[str, tuple[str, Validator]] = {
    "deregistration_delay.timeout_seconds": ("300", _int_between(0, 3600)),
    "deregistration_delay.connection_termination.enabled": ("false", BOOL),
    "preserve_client_ip.enabled": ("false", BOOL),
    "proxy_protocol_v2.enabled": ("false", BOOL),
    "stickiness.enabled": ("false", BOOL),
    "stickiness.type": ("source_ip", _one_of("source_ip")),
    "load_balancing.cross_zone.enabled": CROSS_ZONE,
    "target_health_state.unhealthy.connection_termination.enabled": ("true", BOOL),
    "target_health_state.unhealthy.draining_interval_seconds": ("0", _int_between(0, 360000)),
    **HEALTH_ATTRIBUTES,
}
LAMBDA_ATTRIBUTES: dict[str, tuple[str, Validator]] = {
    "lambda.multi_value_headers.enabled": ("false", BOOL),
}


@dataclass(eq=False)
class TargetGroup:
    arn: str
    name: str
    protocol: str | None
    port: int | None
    vpc_id: str | None
    target_type: str
    protocol_version: str | None
    ip_address_type: str | None
    health_check: HealthCheck
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    load_balancer_arns: list[str] = field(default_factory=list)
    targets: dict[TargetKey, RegisteredTarget] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.attributes:
            self.attributes = {key: default for key, (default, _) in self.attribute_specs().items()}
            # instance targets and UDP keep the client address by default; ip targets over TCP do not
            if "preserve_client_ip.enabled" in self.attributes and (
                self.target_type == "instance" or self.protocol in ("UDP", "TCP_UDP")
            ):
                self.attributes["preserve_client_ip.enabled"] = "true"

    # -- contract with ECS
    @property
    def deregistration_delay(self) -> float:
        return float(self.attributes.get("deregistration_delay.timeout_seconds", "0"))

    @property
    def health_check_interval_seconds(self) -> int:
        return self.health_check.interval

    @property
    def health_check_timeout_seconds(self) -> int:
        return self.health_check.timeout

    @property
    def healthy_threshold_count(self) -> int:
        return self.health_check.healthy_threshold

    @property
    def unhealthy_threshold_count(self) -> int:
        return self.health_check.unhealthy_threshold

    @property
    def health_check_path(self) -> str | None:
        return self.health_check.path

    @property
    def attached(self) -> bool:
        return bool(self.load_balancer_arns)

    # -- attributes
    def attribute_specs(self) -> dict[str, tuple[str, Validator]]:
        if self.target_type == "lambda":
            return LAMBDA_ATTRIBUTES
        if self.protocol in ALB_PROTOCOLS:
            return ALB_ATTRIBUTES
        return NLB_ATTRIBUTES

    def modify_attributes(self, changes: list[dict[str, str]]) -> None:
        specs = self.attribute_specs()
        for change in changes:
            key, value = change.get("Key", ""), change.get("Value", "")
            if key not in specs:
                raise ValidationError(f"Target group attribute key '{key}' is not recognized")
            if not specs[key][1](value):
                raise ValidationError(f"'{value}' is not a valid value for target group attribute '{key}'")
        for change in changes:
            self.attributes[change["Key"]] = change.get("Value", "")

    def describe_attributes(self) -> list[dict[str, str]]:
        return [{"Key": key, "Value": value} for key, value in self.attributes.items()]

    def to_api(self) -> dict[str, Any]:
        health = self.health_check
        return {
            "TargetGroupArn": self.arn,
            "TargetGroupName": self.name,
            "Protocol": self.protocol,
            "ProtocolVersion": self.protocol_version,
            "Port": self.port,
            "VpcId": self.vpc_id,
            "HealthCheckProtocol": health.protocol,
            "HealthCheckPort": health.port,
            "HealthCheckEnabled": health.enabled,
            "HealthCheckIntervalSeconds": health.interval,
            "HealthCheckTimeoutSeconds": health.timeout,
            "HealthyThresholdCount": health.healthy_threshold,
            "UnhealthyThresholdCount": health.unhealthy_threshold,
            "HealthCheckPath": health.path if health.protocol in ALB_PROTOCOLS else None,
            "Matcher": health.matcher if health.protocol in ALB_PROTOCOLS else None,
            "LoadBalancerArns": list(self.load_balancer_arns),
            "TargetType": self.target_type,
            "IpAddressType": self.ip_address_type,
        }


def build_target_group(arn: str, params: dict[str, Any]) -> TargetGroup:
    """A new target group from CreateTargetGroup parameters, validated like ELBv2 does."""
    name = params["Name"]
    if not NAME.match(name) or name.lower().startswith("internal-"):
        raise ValidationError(
            f"Target group name '{name}' can have a maximum of 32 characters, can contain only "
            "alphanumeric characters or hyphens, and must not begin or end with a hyphen"
        )
    target_type = params.get("TargetType", "instance")
    protocol, port, vpc_id = params.get("Protocol"), params.get("Port"), params.get("VpcId")
    if target_type == "lambda":
        if protocol or port or vpc_id:
            raise ValidationError(
                "Protocol, port and VPC ID cannot be specified for target groups with target type 'lambda'"
            )
    else:
        for key, value in (("Protocol", protocol), ("Port", port), ("VpcId", vpc_id)):
            if value is None:
                raise ValidationError(
                    f"A {key} must be specified for target groups with target type '{target_type}'"
                )
        if protocol not in PROTOCOLS:
            raise ValidationError(f"Protocol '{protocol}' is not supported")
        assert port is not None  # the loop above refused a missing Port
        if not 1 <= int(port) <= 65535:
            raise ValidationError("Port must be between 1 and 65535")
    version = params.get("ProtocolVersion")
    if version is not None and protocol not in ALB_PROTOCOLS:
        raise ValidationError("A protocol version can only be specified for HTTP and HTTPS target groups")
    if protocol in ALB_PROTOCOLS and version is None:
        version = "HTTP1"
    health = with_health_settings(default_health_check(protocol, version, target_type), params, target_type)
    ip_type = params.get("IpAddressType", "ipv4") if target_type in ("ip", "instance") else None
    return TargetGroup(
        arn=arn,
        name=name,
        protocol=protocol,
        port=port,
        vpc_id=vpc_id,
        target_type=target_type,
        protocol_version=version,
        ip_address_type=ip_type,
        health_check=health,
    )
