"""CreateService, UpdateService and DeleteService: validation, then the change, then a scheduler run."""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

from ..core.errors import AwsError
from . import deployments, events_bridge, native, strategy_validation, tagging, validation
from .exceptions import InvalidParameterException, ServiceNotActiveException
from .services import ACTIVE, DAEMON, DRAINING, REPLICA, DeploymentConfiguration, Service
from .task_parts import LoadBalancer, ServiceRegistry

if TYPE_CHECKING:
    from .backend import Backend
    from .task_definitions import TaskDefinition

MAX_LOAD_BALANCERS = 5


def create_service(backend: Backend, params: dict[str, Any]) -> Service:
    cluster = backend.cluster(params.get("cluster"))
    name = params["serviceName"]
    existing = cluster.services.get(name)
    if existing is not None and existing.status in (ACTIVE, DRAINING):
        raise InvalidParameterException("Creation of service was not idempotent.")
    controller = (params.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        raise InvalidParameterException(
            f"The sandbox emulates the ECS deployment controller only; {controller} is not supported."
        )
    if not params.get("taskDefinition"):
        raise InvalidParameterException(
            "TaskDefinition must be specified with the ECS deployment controller."
        )
    definition = backend.task_definitions.resolve_for_launch(params["taskDefinition"])
    strategy = params.get("capacityProviderStrategy")
    if not strategy and not params.get("launchType"):
        strategy = cluster.default_strategy or None
    launch_type = validation.launch_type_for(params.get("launchType"), strategy)
    scheduling = params.get("schedulingStrategy") or REPLICA
    daemon = scheduling == DAEMON
    if daemon and launch_type == validation.FARGATE:
        raise InvalidParameterException(
            "The daemon scheduling strategy is not supported with the FARGATE launch type."
        )
    if daemon and params.get("desiredCount") is not None:
        raise InvalidParameterException(
            "The daemon scheduling strategy does not support a desired count for services."
        )
    desired = int(params.get("desiredCount") or 0)
    if desired < 0:
        raise InvalidParameterException("desiredCount must be 0 or more.")
    network = params.get("networkConfiguration")
    validation.check_launch(definition, launch_type, network)
    network = validation.check_network(backend, network)
    config = DeploymentConfiguration.from_request(params.get("deploymentConfiguration"), daemon=daemon)
    _check_deployment_configuration(config, daemon=daemon)
    lbs = load_balancers(backend, params.get("loadBalancers") or [], definition)
    strategy_validation.check(backend, config, lbs, daemon=daemon)
    service = Service(
        backend=backend,
        cluster=cluster,
        name=name,
        arn=backend.arn("ecs", f"service/{cluster.name}/{name}"),
        created_at=backend.now(),
        created_by=f"arn:aws:iam::{backend.account_id}:root",
        scheduling_strategy=scheduling,
        launch_type=None if strategy else launch_type,
        capacity_provider_strategy=strategy,
        task_launch_type=launch_type,
        platform_version=_platform_version(params.get("platformVersion"), launch_type),
        desired_count=desired,
        task_definition=definition,
        deployment_configuration=config,
        load_balancers=lbs,
        registries=registries(backend, params.get("serviceRegistries") or [], definition),
        network_configuration=network,
        placement_constraints=params.get("placementConstraints") or [],
        placement_strategy=params.get("placementStrategy") or [],
        health_check_grace_period=params.get("healthCheckGracePeriodSeconds"),
        role_arn=_role_arn(backend, params.get("role")),
        enable_ecs_managed_tags=bool(params.get("enableECSManagedTags")),
        propagate_tags=tagging.check_propagate(params.get("propagateTags")),
        enable_execute_command=bool(params.get("enableExecuteCommand")),
        tags=tagging.from_api(params.get("tags")),
        service_connect=copy.deepcopy(params.get("serviceConnectConfiguration")),
        vpc_lattice=copy.deepcopy(params.get("vpcLatticeConfigurations")),
    )
    cluster.services[name] = service
    deployments.new_deployment(service, definition)
    service.request_evaluation()
    return service


def update_service(backend: Backend, params: dict[str, Any]) -> Service:
    cluster = backend.cluster(params.get("cluster"))
    service = backend.get_service(cluster, params["service"])
    if service.status != ACTIVE:
        raise ServiceNotActiveException()
    definition = service.task_definition
    if params.get("taskDefinition"):
        definition = backend.task_definitions.resolve_for_launch(params["taskDefinition"])
    desired = service.desired_count
    if params.get("desiredCount") is not None:
        if service.is_daemon:
            raise InvalidParameterException(
                "The daemon scheduling strategy does not support a desired count for services."
            )
        desired = int(params["desiredCount"])
        if desired < 0:
            raise InvalidParameterException("desiredCount must be 0 or more.")
    config = DeploymentConfiguration.from_request(
        params.get("deploymentConfiguration"),
        daemon=service.is_daemon,
        previous=service.deployment_configuration,
    )
    _check_deployment_configuration(config, daemon=service.is_daemon)
    network = params.get("networkConfiguration", service.network_configuration)
    validation.check_launch(definition, service.task_launch_type, network)
    network = validation.check_network(backend, network)
    lbs = service.load_balancers
    if params.get("loadBalancers") is not None:
        lbs = load_balancers(backend, params["loadBalancers"], definition)
    strategy_validation.check(backend, config, lbs, daemon=service.is_daemon)
    regs = service.registries
    if params.get("serviceRegistries") is not None:
        regs = registries(backend, params["serviceRegistries"], definition)
    propagate = tagging.check_propagate(params.get("propagateTags", service.propagate_tags))
    # left out, they stay as they are; given, each "triggers a new service deployment" (UpdateService
    # in the ECS API Reference); an empty vpcLatticeConfigurations list removes VPC Lattice.
    # deploymentConfiguration, placementConstraints, placementStrategy, capacityProviderStrategy,
    # propagateTags and enableECSManagedTags each "doesn't trigger a new service deployment" (same
    # page): they are kept for the tasks started later, so they are not among the changes below
    connect = params.get("serviceConnectConfiguration", service.service_connect)
    lattice = params.get("vpcLatticeConfigurations", service.vpc_lattice)
    changes = {
        "serviceConnectConfiguration": "serviceConnectConfiguration" in params,
        "vpcLatticeConfigurations": "vpcLatticeConfigurations" in params,
        "taskDefinition": definition is not service.task_definition,
        "networkConfiguration": network != service.network_configuration,
        "loadBalancers": lbs != service.load_balancers,
        "serviceRegistries": regs != service.registries,
        "platformVersion": params.get("platformVersion", service.platform_version)
        != service.platform_version,
    }
    if (any(changes.values()) or params.get("forceNewDeployment")) and service.native_run is not None:
        raise InvalidParameterException(
            f"The service {service.name} has a {service.native_run.strategy} service deployment in progress "
            f"({service.native_run.record.arn}); continue, stop or roll it back before starting another."
        )
    # apply
    service.deployment_configuration = config
    service.network_configuration = network
    service.load_balancers, service.registries = lbs, regs
    service.service_connect, service.vpc_lattice = copy.deepcopy(connect), copy.deepcopy(lattice or None)
    service.placement_constraints = params.get("placementConstraints", service.placement_constraints)
    service.placement_strategy = params.get("placementStrategy", service.placement_strategy)
    service.platform_version = params.get("platformVersion", service.platform_version)
    service.capacity_provider_strategy = params.get(
        "capacityProviderStrategy", service.capacity_provider_strategy
    )
    service.propagate_tags = propagate
    service.enable_ecs_managed_tags = params.get("enableECSManagedTags", service.enable_ecs_managed_tags)
    service.enable_execute_command = params.get("enableExecuteCommand", service.enable_execute_command)
    if params.get("healthCheckGracePeriodSeconds") is not None:
        service.health_check_grace_period = params["healthCheckGracePeriodSeconds"]
    if desired != service.desired_count:
        service.desired_count = service.primary.desired_count = desired
        service.steady = False
    if any(changes.values()) or params.get("forceNewDeployment"):
        _start_deployment(service, definition)
    service.request_evaluation()
    return service


def _start_deployment(service: Service, definition: TaskDefinition) -> None:
    """ROLLING: the scheduler's rolling rules. BLUE_GREEN / LINEAR / CANARY with blue tasks running:
    a green revision in the target groups blue does not serve from, moved by a NativeRun. (A first
    deployment, with nothing running, simply starts, as there is no traffic to shift.)"""
    config = service.deployment_configuration
    blue = [d for d in service.deployments if d.live_tasks()]
    pairs = [_pair(service, lb) for lb in service.load_balancers]
    if not config.native or not blue:
        production = [
            _with_group(lb, service.production_groups.get(lb.target_group_arn))
            for lb in service.load_balancers
        ]
        deployments.new_deployment(service, definition, load_balancers=production)
        return
    green = [
        _with_group(lb, pair.green_group) for lb, pair in zip(service.load_balancers, pairs, strict=True)
    ]
    deployment = deployments.new_deployment(service, definition, load_balancers=green)
    record = deployment.service_deployment
    assert record is not None
    run = native.NativeRun(record=record, strategy=config.strategy or "", pairs=pairs, blue=blue)
    run.steps = native.plan(run.strategy, record.configuration, any(p.test_rule for p in pairs))
    record.run = run
    run.start()


def _pair(service: Service, lb: LoadBalancer) -> native.TrafficPair:
    advanced = lb.advanced
    production = service.production_groups.get(lb.target_group_arn, lb.target_group_arn)
    if advanced is None:
        return native.TrafficPair(production, production, "", None, lb.target_group_arn)
    other = advanced.alternate_target_group_arn if production == lb.target_group_arn else lb.target_group_arn
    return native.TrafficPair(
        blue_group=production,
        green_group=other,
        production_rule=advanced.production_listener_rule,
        test_rule=advanced.test_listener_rule,
        key=lb.target_group_arn,
    )


def _with_group(lb: LoadBalancer, group: str | None) -> LoadBalancer:
    return (
        lb if not group or group == lb.target_group_arn else dataclasses.replace(lb, target_group_arn=group)
    )


def delete_service(backend: Backend, params: dict[str, Any]) -> Service:
    cluster = backend.cluster(params.get("cluster"))
    service = backend.get_service(cluster, params["service"])
    if service.status != ACTIVE:
        raise ServiceNotActiveException()
    if service.desired_count > 0 and not params.get("force"):
        raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
    service.status = DRAINING
    service.desired_count = 0
    service.request_evaluation()
    return service


def scale(service: Service, desired: int) -> None:
    """Application Auto Scaling sets desiredCount: like UpdateService desiredCount, no new deployment."""
    if service.status != ACTIVE or service.is_daemon or desired == service.desired_count:
        return
    service.desired_count = service.primary.desired_count = max(0, desired)
    service.steady = False
    # ECS sends this when it (here: Application Auto Scaling) sets the count, not for UpdateService
    now = service.now()
    events_bridge.service_action(
        service,
        events_bridge.DESIRED_COUNT_UPDATED,
        events_bridge.INFO,
        now,
        desiredCount=service.desired_count,
    )
    service.request_evaluation()


# ---------------------------------------------------------------- checks


def _check_deployment_configuration(config: DeploymentConfiguration, *, daemon: bool) -> None:
    if not 0 <= config.minimum_healthy_percent <= 100:
        raise InvalidParameterException("minimumHealthyPercent must be between 0 and 100.")
    if config.maximum_percent < 100:
        raise InvalidParameterException("maximumPercent must be 100 or more.")
    if daemon and config.maximum_percent != 100:
        raise InvalidParameterException(
            "The daemon scheduling strategy supports a maximumPercent of 100 only."
        )


def _platform_version(version: str | None, launch_type: str) -> str | None:
    if launch_type == validation.FARGATE:
        return version or "LATEST"
    if version:
        raise InvalidParameterException(
            "The platform version must be null when specifying an EC2 launch type."
        )
    return None


def _role_arn(backend: Backend, role: str | None) -> str | None:
    if not role:
        return None
    return role if role.startswith("arn:") else f"arn:aws:iam::{backend.account_id}:role/{role}"


def load_balancers(
    backend: Backend, raw: list[dict[str, Any]], definition: TaskDefinition
) -> list[LoadBalancer]:
    if len(raw) > MAX_LOAD_BALANCERS:
        raise InvalidParameterException(f"loadBalancers can have at most {MAX_LOAD_BALANCERS} items.")
    found = []
    for item in raw:
        arn = item.get("targetGroupArn")
        if not arn:
            raise InvalidParameterException(
                "The sandbox emulates Application and Network Load Balancers only: give targetGroupArn."
            )
        name, port = item.get("containerName"), item.get("containerPort")
        container = definition.container(name or "")
        if container is None:
            raise InvalidParameterException(f"The container {name} does not exist in the task definition.")
        if port is None or container.port(int(port)) is None:
            raise InvalidParameterException(
                f"The container {name} did not have a container port {port} defined."
            )
        _check_target_group(backend, arn, definition.effective_network_mode)
        found.append(
            LoadBalancer(
                target_group_arn=arn,
                container_name=container.name,
                container_port=int(port),
                advanced=strategy_validation.advanced_configuration(item.get("advancedConfiguration")),
            )
        )
    return found


def _check_target_group(backend: Backend, arn: str, network_mode: str) -> None:
    elbv2 = backend.region.elbv2
    if not hasattr(elbv2, "target_group"):
        raise InvalidParameterException("Load balancers are not available in this sandbox yet.")
    try:
        group = elbv2.target_group(arn)
    except AwsError as exc:
        raise InvalidParameterException(f"The target group {arn} does not exist.") from exc
    if (network_mode == "awsvpc") != (group.target_type == "ip"):
        raise InvalidParameterException(
            f"The provided target group {arn} has target type {group.target_type}, which is incompatible "
            f"with the {network_mode} network mode specified in the task definition."
        )
    if not group.load_balancer_arns:
        raise InvalidParameterException(
            f"The target group with targetGroupArn {arn} does not have an associated load balancer."
        )


def registries(
    backend: Backend, raw: list[dict[str, Any]], definition: TaskDefinition
) -> list[ServiceRegistry]:
    if len(raw) > 1:
        raise InvalidParameterException("serviceRegistries can have at most 1 items.")
    found = []
    for item in raw:
        registry = ServiceRegistry(
            registry_arn=item.get("registryArn", ""),
            port=item.get("port"),
            container_name=item.get("containerName"),
            container_port=item.get("containerPort"),
        )
        record_types = _record_types(backend, registry.registry_arn)
        by_container = registry.container_name is not None or registry.container_port is not None
        if definition.effective_network_mode in ("bridge", "host") and not (
            registry.container_name and registry.container_port
        ):
            raise InvalidParameterException(
                "When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and "
                "'containerPort' must be specified from the task definition."
            )
        if registry.port is not None and by_container:
            raise InvalidParameterException(
                "Specify either port or containerName and containerPort for a service registry, not both."
            )
        if "SRV" in record_types and registry.port is None and not by_container:
            raise InvalidParameterException(
                "The service registry uses SRV records: specify port, or containerName and containerPort."
            )
        if registry.container_name is not None:
            container = definition.container(registry.container_name)
            if container is None:
                raise InvalidParameterException(
                    f"The container {registry.container_name} does not exist in the task definition."
                )
            if registry.container_port is not None and container.port(registry.container_port) is None:
                raise InvalidParameterException(
                    f"The container {registry.container_name} did not have a container port "
                    f"{registry.container_port} defined."
                )
        found.append(registry)
    return found


def _record_types(backend: Backend, arn: str) -> set[str]:
    directory = backend.region.servicediscovery
    if not hasattr(directory, "service_by_arn"):
        raise InvalidParameterException("Service discovery is not available in this sandbox yet.")
    try:
        found = directory.service_by_arn(arn)
    except AwsError as exc:
        raise InvalidParameterException(f"The service registry {arn} does not exist.") from exc
    config = getattr(found, "dns_config", None)
    return set(getattr(config, "record_types", set())) if config is not None else set()
