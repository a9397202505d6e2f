"""ECS rules a request can break although it fits the API shape (reference/ecs-control-plane.md).

Checked on the converted task definition and service definition together with what the
infrastructure supplies at deploy time (launch type, network configuration, execution role):

- Fargate: the task definition must be Fargate-compatible, use network mode awsvpc and a
  cpu/memory pair from the Fargate table; DAEMON services cannot run on it.
- awsvpc needs a network configuration, in the service definition or the infrastructure.
- An execution role (the task definition's `executionRoleArn`, else the infrastructure's)
  is needed for awslogs and private ECR images on Fargate, and for `secrets` and
  `repositoryCredentials` on any launch type.
- Service registries: at most one; the container must exist and map the port; bridge/host
  need containerName + containerPort; awsvpc takes `port` or containerName +
  containerPort, not both.
- Load balancers: at most 5, each naming a container and port the task definition maps.
- DAEMON services have no desired count.
- ECS's own deployment strategies (BLUE_GREEN, LINEAR, CANARY): native_rules.py.

`service_def` may also be a RunTask request: it has the same launchType and
networkConfiguration members, and the service-only rules find nothing to check in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from corral.errors import ConfigError, Problem, format_path
from corral.manifests.fargate import NO_FARGATE_CONFIGURATION, fargate_size_problem, parse_cpu, parse_memory
from corral.manifests.native_rules import native_strategy_problems

MAX_LOAD_BALANCERS = 5
AWSVPC_NEEDS_NETWORK = "Network Configuration must be provided when networkMode 'awsvpc' is specified."
AWSLOGS_NEEDS_ROLE = (
    "Fargate requires task definition to have execution role ARN to support log driver awslogs."
)
# an account id, or `aws_account_id`: the connector's account before ECR names it (validate, render)
_PRIVATE_ECR = re.compile(r"^(\d{12}|aws_account_id)\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")


@dataclass(frozen=True)
class _Deploy:
    """What the rules look at: the two requests, their files, and the deploy-time settings."""

    task: dict[str, Any]
    service: dict[str, Any]
    source_task: str
    source_service: str
    launch_type: str | None
    network_configuration: dict[str, Any] | None
    execution_role_arn: str | None

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.task.get("containerDefinitions") or [])

    @property
    def network_mode(self) -> str | None:
        mode = self.task.get("networkMode")
        if mode is None and self.task and not self.on_fargate:
            return "bridge"  # the ECS default on Linux container instances
        return mode

    @property
    def on_fargate(self) -> bool:
        return self.launch_type == "FARGATE"

    def container_named(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.containers if c.get("name") == name), None)

    def task_problem(self, path: list[str | int], message: str) -> Problem:
        return Problem(file=self.source_task, path=format_path(path), message=message)

    def service_problem(self, path: list[str | int], message: str) -> Problem:
        return Problem(file=self.source_service, path=format_path(path), message=message)


def check_ecs_rules(
    task_def: dict[str, Any] | None,
    service_def: dict[str, Any] | None,
    *,
    source_task: str,
    source_service: str,
    launch_type: str | None = None,
    network_configuration: dict[str, Any] | None = None,
    execution_role_arn: str | None = None,
) -> list[Problem]:
    """Every ECS rule the pair breaks; `launch_type` and `network_configuration` from the
    infrastructure win over the service definition's own."""
    service = service_def or {}
    deploy = _Deploy(
        task=task_def or {},
        service=service,
        source_task=source_task,
        source_service=source_service,
        launch_type=launch_type or service.get("launchType") or _capacity_launch_type(service),
        network_configuration=network_configuration or service.get("networkConfiguration"),
        execution_role_arn=(task_def or {}).get("executionRoleArn") or execution_role_arn,
    )
    problems: list[Problem] = []
    for rule in (
        _compatibility,
        _fargate_network_mode,
        _fargate_size,
        _awsvpc_network_configuration,
        _execution_role,
        _service_registries,
        _load_balancers,
        _daemon,
        _native_strategy,
    ):
        problems.extend(rule(deploy))
    return problems


def check_target_port(
    task_def: dict[str, Any], port: int, target_group_arn: str, *, source: str = "task definition"
) -> None:
    """Blue Green: the stage target group's port must be a container port of the task."""
    for container in task_def.get("containerDefinitions") or []:
        if port in _container_ports(container):
            return
    message = (
        f"No container definition has port mapping that matches the target port: {port} "
        f"for target group: {target_group_arn}"
    )
    raise ConfigError([Problem(file=source, path="containerDefinitions", message=message)])


# -- rules, in the order reference/ecs-control-plane.md gives them ---------------------------


def _compatibility(d: _Deploy) -> Iterator[Problem]:
    wanted = d.task.get("requiresCompatibilities")
    if wanted and d.launch_type in ("EC2", "FARGATE", "EXTERNAL") and d.launch_type not in wanted:
        yield d.task_problem(
            ["requiresCompatibilities"],
            f"the task definition does not support launch type {d.launch_type} "
            f"(requiresCompatibilities: {', '.join(wanted)})",
        )


def _fargate_task(d: _Deploy) -> bool:
    """Fargate sizing applies when the task asks for Fargate or will run there."""
    return d.on_fargate or "FARGATE" in (d.task.get("requiresCompatibilities") or [])


def _fargate_network_mode(d: _Deploy) -> Iterator[Problem]:
    if d.task and _fargate_task(d) and d.task.get("networkMode") != "awsvpc":
        got = d.task.get("networkMode")
        shown = f"'{got}'" if got else "no network mode"
        yield d.task_problem(["networkMode"], f"Fargate requires network mode 'awsvpc'; got {shown}")


def _fargate_size(d: _Deploy) -> Iterator[Problem]:
    if not d.task or not _fargate_task(d):
        return
    cpu_text, memory_text = d.task.get("cpu"), d.task.get("memory")
    if cpu_text is None or memory_text is None:
        missing = " and ".join(n for n, v in (("cpu", cpu_text), ("memory", memory_text)) if v is None)
        yield d.task_problem(
            ["cpu" if cpu_text is None else "memory"],
            f"{NO_FARGATE_CONFIGURATION} Fargate needs task-level cpu and memory; {missing} not set.",
        )
        return
    cpu, memory = parse_cpu(cpu_text), parse_memory(memory_text)
    if cpu is None:
        yield d.task_problem(
            ["cpu"], f"expected CPU units (e.g. '256') or vCPUs (e.g. '1 vCPU'); got '{cpu_text}'"
        )
    if memory is None:
        yield d.task_problem(
            ["memory"], f"expected MiB (e.g. '512') or GB (e.g. '2 GB'); got '{memory_text}'"
        )
    if cpu is not None and memory is not None:
        wrong = fargate_size_problem(cpu, memory)
        if wrong:
            yield d.task_problem([wrong[0]], wrong[1])


def _awsvpc_network_configuration(d: _Deploy) -> Iterator[Problem]:
    if d.service and d.network_mode == "awsvpc" and not d.network_configuration:
        yield d.service_problem(["networkConfiguration"], AWSVPC_NEEDS_NETWORK)
    own = d.service.get("networkConfiguration")
    if own and d.task and d.network_mode != "awsvpc":
        yield d.service_problem(
            ["networkConfiguration"],
            f"a network configuration is only valid with network mode 'awsvpc'; "
            f"the task definition uses '{d.network_mode}'",
        )


def _execution_role(d: _Deploy) -> Iterator[Problem]:
    if d.execution_role_arn:
        return
    for i, container in enumerate(d.containers):
        at: list[str | int] = ["containerDefinitions", i]
        log = container.get("logConfiguration") or {}
        if d.on_fargate and log.get("logDriver") == "awslogs":
            yield d.task_problem([*at, "logConfiguration", "logDriver"], AWSLOGS_NEEDS_ROLE)
        image = container.get("image") or ""
        if d.on_fargate and _PRIVATE_ECR.match(image):
            yield d.task_problem(
                [*at, "image"],
                f"Fargate requires task definition to have execution role ARN to pull the "
                f"private ECR image '{image}'.",
            )
        if container.get("secrets") or log.get("secretOptions"):
            where = "secrets" if container.get("secrets") else "logConfiguration"
            yield d.task_problem(
                [*at, where], "an execution role ARN (executionRoleArn) is required to use secrets"
            )
        if container.get("repositoryCredentials"):
            yield d.task_problem(
                [*at, "repositoryCredentials"],
                "an execution role ARN (executionRoleArn) is required for private registry "
                "authentication (repositoryCredentials)",
            )


def _service_registries(d: _Deploy) -> Iterator[Problem]:
    registries = d.service.get("serviceRegistries") or []
    if len(registries) > 1:
        yield d.service_problem(
            ["serviceRegistries"], f"at most one service registry per service; got {len(registries)}"
        )
    for i, registry in enumerate(registries):
        yield from _service_registry(d, i, registry)


def _service_registry(d: _Deploy, i: int, registry: dict[str, Any]) -> Iterator[Problem]:
    at: list[str | int] = ["serviceRegistries", i]
    name, container_port, port = (registry.get(k) for k in ("containerName", "containerPort", "port"))
    mode = d.network_mode
    if mode in ("bridge", "host"):
        if name is None or container_port is None:
            yield d.service_problem(
                at, f"network mode '{mode}' needs containerName and containerPort (an SRV record)"
            )
        if port is not None:
            yield d.service_problem(
                [*at, "port"], f"port is only used with network mode awsvpc; network mode is '{mode}'"
            )
    elif mode == "awsvpc":
        if port is not None and (name is not None or container_port is not None):
            yield d.service_problem(
                at, "give either port or containerName and containerPort, not both (network mode awsvpc)"
            )
        elif (name is None) != (container_port is None):
            yield d.service_problem(at, "containerName and containerPort go together; give both or neither")
    if name is not None and d.task:
        yield from _container_port(d, at, name, container_port)


def _load_balancers(d: _Deploy) -> Iterator[Problem]:
    balancers = d.service.get("loadBalancers") or []
    if len(balancers) > MAX_LOAD_BALANCERS:
        yield d.service_problem(
            ["loadBalancers"],
            f"at most {MAX_LOAD_BALANCERS} load balancers (target groups) per service; got {len(balancers)}",
        )
    for i, balancer in enumerate(balancers):
        name = balancer.get("containerName")
        if name is not None and d.task:
            yield from _container_port(d, ["loadBalancers", i], name, balancer.get("containerPort"))


def _daemon(d: _Deploy) -> Iterator[Problem]:
    if d.service.get("schedulingStrategy") != "DAEMON":
        return
    if d.service.get("desiredCount") is not None:
        yield d.service_problem(
            ["desiredCount"],
            "a DAEMON service runs one task per container instance and has no desired count; remove it",
        )
    if d.on_fargate:
        yield d.service_problem(
            ["schedulingStrategy"], "the DAEMON scheduling strategy is not supported on Fargate"
        )


def _native_strategy(d: _Deploy) -> Iterator[Problem]:
    yield from native_strategy_problems(d.service, d.source_service)


# -- helpers -----------------------------------------------------------------------------------


def _container_port(d: _Deploy, at: list[str | int], name: str, port: Any) -> Iterator[Problem]:
    container = d.container_named(name)
    if container is None:
        names = ", ".join(str(c.get("name")) for c in d.containers) or "none"
        yield d.service_problem(
            [*at, "containerName"],
            f"container '{name}' is not defined in the task definition (containers: {names})",
        )
    elif port is not None and port not in _container_ports(container):
        mapped = ", ".join(map(str, sorted(_container_ports(container)))) or "none"
        yield d.service_problem(
            [*at, "containerPort"],
            f"container '{name}' has no port mapping for container port {port} (mapped: {mapped})",
        )


def _container_ports(container: dict[str, Any]) -> set[int]:
    return {m["containerPort"] for m in container.get("portMappings") or [] if "containerPort" in m}


def _capacity_launch_type(service: dict[str, Any]) -> str | None:
    providers = {item.get("capacityProvider") for item in service.get("capacityProviderStrategy") or []}
    return "FARGATE" if providers & {"FARGATE", "FARGATE_SPOT"} else None
