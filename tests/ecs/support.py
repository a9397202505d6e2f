"""Shared set-up for the ECS step tests (rolling, canary, run task, scale, blue green).

    env = EcsEnv.create(sandbox)                    # cluster, default-VPC subnets, security group
    alb = env.alb()                                 # ALB, listeners 80 and 8080, two `ip` target groups
    target = env.target("web", "web:1", desired=2, load_balancer=alb.groups[0])
    before = snapshot(env, "web")
    ... deploy, fail, roll back ...
    assert_same(before, snapshot(env, "web"))

Resources use short health-check intervals and deregistration delays so that tests run fast at the
fixture's speed. Nothing here calls Corral's own step code: live services are made with plain
boto3, so a test checks the steps against AWS's end state, not against themselves.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from corral.aws.budget import RateBudget
from corral.aws.clients import AwsSettings, Clients
from corral.aws.poller import PollPolicy, ServiceDeploymentPoller, ServicePoller, TaskPoller
from corral.ecs.context import StepContext, StepTimedOut
from corral.ecs.target import EcsTarget
from corral.errors import DeploymentError
from corral.sandbox import Sandbox

REGION = "us-east-1"
CLUSTER = "corral"
DIMENSION = "ecs:service:DesiredCount"
# The shared pollers' intervals, shortened: sandbox time runs fast, so real-time back-off to 5 s
# would only make the tests wait.
TEST_POLL_POLICY = PollPolicy(fast=0.1, growth=1.5, slowest=0.5, min_gap=0.05, round_window=30.0)

FAST_HEALTH_CHECK = {
    "command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
    "interval": 5,
    "timeout": 2,
    "retries": 2,
}

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], *, timeout: float = 20.0, message: str = "condition") -> T:
    """Poll with short real sleeps until `condition()` is truthy; return it, or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.02)


# ---------------------------------------------------------------- requests


def task_definition(
    family: str,
    image: str,
    *,
    port: int = 80,
    health_check: bool = False,
    containers: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Fargate RegisterTaskDefinition request with one essential container `app`."""
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": port, "protocol": "tcp"}],
    }
    if health_check:
        container["healthCheck"] = dict(FAST_HEALTH_CHECK)
    return {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [container, *(containers or [])],
        **extra,
    }


def scalable_target(minimum: int = 1, maximum: int = 6) -> dict[str, Any]:
    return {
        "ServiceNamespace": "ecs",
        "ScalableDimension": DIMENSION,
        "MinCapacity": minimum,
        "MaxCapacity": maximum,
    }


def scheduled_action(
    name: str, schedule: str, minimum: int | None = None, maximum: int | None = None, **extra: Any
) -> dict[str, Any]:
    """A PutScheduledAction request without ResourceId (the step fills it in)."""
    action = {k: v for k, v in (("MinCapacity", minimum), ("MaxCapacity", maximum)) if v is not None}
    return {
        "ServiceNamespace": "ecs",
        "ScalableDimension": "ecs:service:DesiredCount",
        "ScheduledActionName": name,
        "Schedule": schedule,
        "ScalableTargetAction": action,
        **extra,
    }


def cpu_policy(name: str = "cpu60", target_value: float = 60.0) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "ServiceNamespace": "ecs",
        "ScalableDimension": DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": target_value,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 60,
        },
    }


# ---------------------------------------------------------------- the environment


@dataclass
class Alb:
    """An ALB with listeners on 80 and 8080, forwarding to `groups[0]` and `groups[1]` (target type ip)."""

    arn: str
    listeners: list[str]
    groups: list[str]


@dataclass
class EcsEnv:
    sandbox: Sandbox
    clients: Clients
    cluster: str
    vpc_id: str
    subnets: list[str]
    security_group: str
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    _alb: Alb | None = None

    @classmethod
    def create(cls, sandbox: Sandbox, *, cluster: str = CLUSTER, container_instances: int = 0) -> EcsEnv:
        ec2 = sandbox.client("ec2")
        vpc_id = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
        subnets = [
            s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        ]
        group = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]["GroupId"]
        tags = [{"key": "corral:sandbox:containerInstances", "value": str(container_instances)}]
        sandbox.client("ecs").create_cluster(clusterName=cluster, tags=tags if container_instances else [])
        settings = AwsSettings(
            region=REGION,
            endpoint_url=sandbox.endpoint_url,
            access_key_id="testing",
            secret_access_key="testing",
        )
        clients = Clients(settings, budget=RateBudget())
        # create the cluster's shared pollers with test intervals before any step asks for them
        ServicePoller.for_cluster(clients, cluster, policy=TEST_POLL_POLICY)
        TaskPoller.for_cluster(clients, cluster, policy=TEST_POLL_POLICY)
        ServiceDeploymentPoller.for_cluster(clients, cluster, policy=TEST_POLL_POLICY)
        return cls(sandbox, clients, cluster, vpc_id, subnets[:2], group)

    # plain boto3 clients, for set-up and for looking at the end state
    @property
    def ecs(self) -> Any:
        return self.sandbox.client("ecs")

    @property
    def elbv2(self) -> Any:
        return self.sandbox.client("elbv2")

    @property
    def autoscaling(self) -> Any:
        return self.sandbox.client("application-autoscaling")

    @property
    def servicediscovery(self) -> Any:
        return self.sandbox.client("servicediscovery")

    @property
    def admin(self) -> Any:
        return self.sandbox.admin

    @property
    def network(self) -> dict[str, Any]:
        return {
            "awsvpcConfiguration": {
                "subnets": list(self.subnets),
                "securityGroups": [self.security_group],
                "assignPublicIp": "DISABLED",
            }
        }

    def context(self, *, timeout: float = 60.0, **kwargs: Any) -> StepContext:
        """A step context whose checkpoints land in `self.checkpoints` (the last one is `checkpoint`)."""
        return StepContext.with_timeout(self.clients, timeout, checkpoint=self.checkpoints.append, **kwargs)

    @property
    def checkpoint(self) -> dict[str, Any]:
        """The rollback data the last step checkpointed, through JSON as a journal would keep it."""
        import json

        return dict(json.loads(json.dumps(self.checkpoints[-1])))

    def service_definition(
        self,
        name: str,
        *,
        desired: int | None = 2,
        load_balancer: str | None = None,
        registry: str | None = None,
        tags: dict[str, str] | None = None,
        circuit_breaker: tuple[bool, bool] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A CreateService request (without cluster and task definition) for a Fargate service."""
        definition: dict[str, Any] = {
            "serviceName": name,
            "launchType": "FARGATE",
            "networkConfiguration": copy.deepcopy(self.network),
            "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
            **extra,
        }
        if desired is not None:
            definition["desiredCount"] = desired
        if circuit_breaker is not None:
            definition["deploymentConfiguration"]["deploymentCircuitBreaker"] = {
                "enable": circuit_breaker[0],
                "rollback": circuit_breaker[1],
            }
        if load_balancer is not None:
            definition["loadBalancers"] = [
                {"targetGroupArn": load_balancer, "containerName": "app", "containerPort": 80}
            ]
            definition.setdefault("healthCheckGracePeriodSeconds", 0)
        if registry is not None:
            definition["serviceRegistries"] = [{"registryArn": registry}]
        if tags:
            definition["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        return definition

    def target(
        self,
        name: str,
        image: str,
        *,
        family: str | None = None,
        health_check: bool = False,
        scalable_targets: list[dict[str, Any]] | None = None,
        scaling_policies: list[dict[str, Any]] | None = None,
        scheduled_actions: list[dict[str, Any]] | None = None,
        run_task_request: dict[str, Any] | None = None,
        **service: Any,
    ) -> EcsTarget:
        """What a step deploys: task definition `family` (default: the service name) running `image`."""
        return EcsTarget(
            cluster=self.cluster,
            service_definition=self.service_definition(name, **service),
            task_definition=task_definition(family or name, image, health_check=health_check),
            scalable_targets=list(scalable_targets or []),
            scaling_policies=list(scaling_policies or []),
            scheduled_actions=list(scheduled_actions or []),
            run_task_request=run_task_request,
        )

    # ------------------------------------------------------------ resources

    def alb(self) -> Alb:
        """The environment's ALB (made on first use): health checks every 5 s, 2 to turn, 2 s drains."""
        if self._alb is not None:
            return self._alb
        elb = self.elbv2
        arn = elb.create_load_balancer(Name="corral", Subnets=self.subnets)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        groups, listeners = [], []
        for name, port in (("corral-blue", 80), ("corral-green", 8080)):
            group = elb.create_target_group(
                Name=name,
                Protocol="HTTP",
                Port=80,
                VpcId=self.vpc_id,
                TargetType="ip",
                HealthCheckIntervalSeconds=5,
                HealthCheckTimeoutSeconds=2,
                HealthyThresholdCount=2,
                UnhealthyThresholdCount=2,
            )["TargetGroups"][0]["TargetGroupArn"]
            elb.modify_target_group_attributes(
                TargetGroupArn=group,
                Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "2"}],
            )
            listener = elb.create_listener(
                LoadBalancerArn=arn,
                Protocol="HTTP",
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
            )["Listeners"][0]["ListenerArn"]
            groups.append(group)
            listeners.append(listener)
        self._alb = Alb(arn, listeners, groups)
        return self._alb

    def cloud_map_service(self, name: str, namespace: str = "corral.local") -> str:
        """A Cloud Map service with A records in a private DNS namespace; returns its ARN."""
        sd = self.servicediscovery
        found = [n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == namespace]
        if not found:
            sd.create_private_dns_namespace(Name=namespace, Vpc=self.vpc_id)
            found = [n for n in sd.list_namespaces()["Namespaces"] if n["Name"] == namespace]
        return str(
            sd.create_service(
                Name=name,
                NamespaceId=found[0]["Id"],
                DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
                HealthCheckCustomConfig={"FailureThreshold": 1},
            )["Service"]["Arn"]
        )

    def cloud_map_instances(self, registry_arn: str) -> list[str]:
        service_id = registry_arn.rsplit("/", 1)[-1]
        return sorted(
            i["Id"] for i in self.servicediscovery.list_instances(ServiceId=service_id)["Instances"]
        )

    # ------------------------------------------------------------ live services made with plain boto3

    def create_live_service(
        self,
        target: EcsTarget,
        *,
        scalable_targets: list[dict[str, Any]] | None = None,
        scaling_policies: list[dict[str, Any]] | None = None,
        scheduled_actions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Register the target's task definition, create its service and wait until it is steady,
        then attach the given autoscaling: the state a deployment starts from."""
        assert target.task_definition is not None and target.service_definition is not None
        arn = self.ecs.register_task_definition(**target.task_definition)["taskDefinition"][
            "taskDefinitionArn"
        ]
        self.ecs.create_service(cluster=self.cluster, taskDefinition=arn, **target.service_definition)
        service = self.wait_steady(target.service_name, arn)
        rid = f"service/{self.cluster}/{target.service_name}"
        for scalable in scalable_targets or []:
            self.autoscaling.register_scalable_target(**{**scalable, "ResourceId": rid})
        for policy in scaling_policies or []:
            self.autoscaling.put_scaling_policy(**{**policy, "ResourceId": rid})
        for action in scheduled_actions or []:
            self.autoscaling.put_scheduled_action(**{**action, "ResourceId": rid})
        return service

    def describe(self, name: str) -> dict[str, Any] | None:
        services = self.ecs.describe_services(cluster=self.cluster, services=[name], include=["TAGS"])[
            "services"
        ]
        return services[0] if services else None

    def wait_steady(self, name: str, task_definition_arn: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until one COMPLETED deployment of `task_definition_arn` runs the desired count."""

        def steady() -> dict[str, Any] | None:
            service = self.describe(name)
            if service is None or len(service["deployments"]) != 1:
                return None
            primary = service["deployments"][0]
            done = (
                primary["rolloutState"] == "COMPLETED"
                and primary["taskDefinition"] == task_definition_arn
                and service["runningCount"] == service["desiredCount"]
            )
            return service if done else None

        return wait_until(steady, timeout=timeout, message=f"service {name} to be steady")

    def revisions(self, family: str) -> list[str]:
        return list(self.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])


# ---------------------------------------------------------------- failures to inject


@dataclass
class Failure:
    """A release that fails in one of the ways ECS deployments fail, and what the error must say."""

    image: dict[str, Any]  # the image behaviour of the new release
    reasons: tuple[str, ...]  # what the step's error must say
    circuit_breaker: tuple[bool, bool] | None = None
    timeout: float = 60.0
    error: type[Exception] = DeploymentError


FAILURES = {
    "container health check fails": Failure(
        {"healthCheck": "fail"},
        ("Tasks keep failing", "Task failed container health checks", "failed container health checks"),
    ),
    "load balancer health check fails": Failure(
        {"elbHealth": "fail"},
        ("Tasks keep failing", "Task failed ELB health checks", "is unhealthy in (target-group"),
    ),
    "task exits": Failure(
        {"exitCode": 1, "exitAfter": 1},
        ("Tasks keep failing", "Essential container in task exited", "container app exit code 1"),
    ),
    "image pull fails": Failure(
        {"pullFailure": "pull access denied for web, repository does not exist"},
        ("CannotPullContainerError: pull access denied for web",),
    ),
    "circuit breaker without rollback": Failure(
        {"healthCheck": "fail"},
        ("failed: ECS deployment circuit breaker: tasks failed to start.",),
        circuit_breaker=(True, False),
    ),
    "circuit breaker with rollback": Failure(
        {"healthCheck": "fail"},
        ("tasks failed to start", "circuit breaker"),
        circuit_breaker=(True, True),
    ),
    "step timeout": Failure(
        {"startDelay": 3000}, ("Timed out waiting for service web",), timeout=1.5, error=StepTimedOut
    ),
}


# ---------------------------------------------------------------- snapshots of AWS state

SERVICE_FIELDS = (
    "status",
    "taskDefinition",
    "desiredCount",
    "runningCount",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "deploymentConfiguration",
    "loadBalancers",
    "serviceRegistries",
    "networkConfiguration",
    "placementConstraints",
    "placementStrategy",
    "healthCheckGracePeriodSeconds",
    "schedulingStrategy",
    "propagateTags",
    "enableECSManagedTags",
    "enableExecuteCommand",
)


def snapshot(env: EcsEnv, name: str) -> dict[str, Any]:
    """What a person checks after a rollback: the service's settings, its one deployment, tags,
    autoscaling, healthy load balancer targets and Cloud Map instance count."""
    service = env.describe(name)
    if service is None or service["status"] == "INACTIVE":
        return {"service": {"status": "INACTIVE" if service else "MISSING"}, **_scaling(env, name)}
    state: dict[str, Any] = {"service": {k: service.get(k) for k in SERVICE_FIELDS}}
    state["deployments"] = [
        {
            k: d.get(k)
            for k in (
                "status",
                "taskDefinition",
                "rolloutState",
                "desiredCount",
                "runningCount",
                "serviceConnectConfiguration",
                "vpcLatticeConfigurations",
            )
        }
        for d in service["deployments"]
    ]
    state["tags"] = {t["key"]: t["value"] for t in service.get("tags") or []}
    state.update(_scaling(env, name))
    state["healthyTargets"] = {
        lb["targetGroupArn"]: _healthy_targets(env, lb["targetGroupArn"]) for lb in service["loadBalancers"]
    }
    state["cloudMapInstances"] = {
        r["registryArn"]: len(env.cloud_map_instances(r["registryArn"])) for r in service["serviceRegistries"]
    }
    return state


def _scaling(env: EcsEnv, name: str) -> dict[str, Any]:
    rid = f"service/{env.cluster}/{name}"
    targets = env.autoscaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])[
        "ScalableTargets"
    ]
    policies = env.autoscaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid)[
        "ScalingPolicies"
    ]
    target_keys = ("ScalableDimension", "MinCapacity", "MaxCapacity", "SuspendedState")
    policy_keys = (
        "PolicyName",
        "PolicyType",
        "TargetTrackingScalingPolicyConfiguration",
        "StepScalingPolicyConfiguration",
    )
    scheduled = env.autoscaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=rid)[
        "ScheduledActions"
    ]
    scheduled_keys = (
        "ScheduledActionName",
        "Schedule",
        "Timezone",
        "StartTime",
        "EndTime",
        "ScalableTargetAction",
    )
    return {
        "scalableTargets": [{k: t.get(k) for k in target_keys} for t in targets],
        "scalingPolicies": sorted(
            ({k: p.get(k) for k in policy_keys} for p in policies), key=lambda p: p["PolicyName"]
        ),
        "scheduledActions": sorted(
            ({k: a.get(k) for k in scheduled_keys} for a in scheduled), key=lambda a: a["ScheduledActionName"]
        ),
    }


def _healthy_targets(env: EcsEnv, group: str) -> int:
    health = env.elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sum(1 for h in health if h["TargetHealth"]["State"] == "healthy")


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, as `path: before -> after` lines."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            found += differences(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for d in differences(b, a, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    found = differences(before, after)
    assert not found, "AWS state differs from before the deployment:\n" + "\n".join(found)
