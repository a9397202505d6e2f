"""The reliability matrix: rolling, canary, blue green, traffic shift, basic and scale deployments,
CloudFormation provisioning before a rolling deployment, and services with ECS's own BLUE_GREEN,
LINEAR and CANARY strategies released by ECS Rolling Deploy (`native_bg`, `native_linear`,
`native_canary`: ECS moves the listener rules' weights), under injected faults.

Every scenario starts a fresh sandbox, makes the live state a deployment starts from (with plain
boto3, through tests/ecs/support.py), snapshots it, injects one fault, runs the strategy's steps
through the ECS Python API and then judges AWS's end state:

- `finished`: the steps succeeded, the strategy's checks of what the steps were asked for pass
  (expected.py: the release's containers, count, tags and autoscaling; the old service of a blue
  green downsized to 0 without autoscaling; ...), and the whole end state (end_state.py:
  services, deployments, task definition content, tags, autoscaling targets, policies and
  scheduled actions, listener rules and weights, target registrations, Cloud Map instances),
  normalised only for ids and times (normalise.py), equals the end state of the strategy's
  clean run (run once per process, `clean_run`, or once per matrix run by __main__);
- `restored`: a step failed, the strategy's rollback ran (from rollback data that went through
  JSON, as a journal keeps it) and the same whole state (and the strategy's own snapshot) equals
  the one from before; `restored (by a second rollback)`: the first rollback failed with a clear
  error while an endpoint was down, and the rollback run again after the outage restored it;
- anything else (`BROKEN: ...`) fails the run.

Faults: for each operation a clean run of the strategy calls (`OPERATIONS`, checked against the
sandbox's call log by a test), a throttle storm, 5xx answers, added latency, dropped connections
and drop_after (the change made, the answer lost), cleared before the rollback; releases whose
tasks fail in each way ECS tasks fail (`FAILURES` in tests/ecs/support.py, image behaviours); each fault kind
kept on each endpoint the strategy calls while the rollback of a failing release runs (`kept`);
each endpoint's outage from the steps' first change on, longer than the step's retries, lasting
through the first rollback (`outage`).

Provisioning (`provision`, `provision_rollback`; stacks in stacks.py): the Create Stack steps'
operations under each fault, then the deployment's; and, with a release that always fails, the
Rollback Stack steps' operations (UpdateStack back, DeleteStack of the new stack) under each fault
while the rollback runs. "Restored" includes each stack's template, parameters, tags and outputs
and the resources CloudFormation made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from corral.ecs.basic import (
    ServiceSetupOptions,
    UpgradeContainerOptions,
    basic_rollback,
    service_setup,
    upgrade_container,
)
from corral.ecs.bluegreen import (
    BlueGreenCreateServiceOptions,
    StandaloneShiftOptions,
    SwapTargetGroupsOptions,
    TrafficShiftOptions,
    blue_green_create_service,
    blue_green_rollback,
    blue_green_swap_target_groups,
    blue_green_traffic_shift,
    standalone_traffic_shift,
    standalone_traffic_shift_rollback,
)
from corral.ecs.canary import (
    CanaryDeleteOptions,
    CanaryDeployOptions,
    canary_delete,
    canary_deploy,
    canary_rollback,
)
from corral.ecs.listeners import forward_weights
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy, rolling_rollback
from corral.ecs.scale import ScaleOptions, scale, scale_rollback
from corral.errors import CorralError, DeploymentError
from corral.provisioners import cloudformation as cfn
from corral.sandbox import Sandbox
from tests.ecs.support import (
    FAILURES,
    EcsEnv,
    cpu_policy,
    differences,
    scalable_target,
    scheduled_action,
    snapshot,
)
from tests.ecs.test_bluegreen_support import bg_state, bg_target, create_options, forwards, live_service

from . import expected, stacks
from .end_state import end_state

SPEED = 200.0
STRATEGIES = (
    "rolling",
    "canary",
    "bluegreen",
    "bg_inherit",
    "bg_standalone",
    "basic",
    "scale",
    "provision",
    "provision_rollback",
    "native_bg",
    "native_linear",
    "native_canary",
)
# services ECS deploys with its own strategy, released by ECS Rolling Deploy
NATIVE = ("native_bg", "native_linear", "native_canary")
# strategies whose release always fails: the faults hit the rollback (its operations are in
# OPERATIONS), and a clean run ends restored
ROLLBACK_FAULTS = ("provision_rollback",)
CLEAN_OUTCOME = {"provision_rollback": "restored"}

# What a clean run of each strategy's steps calls (service, operation); a test compares this with
# the sandbox's call log, so a step that starts calling something new gets its faults here.
ECS, AAS, ELB, CFN = "ecs", "application-autoscaling", "elasticloadbalancing", "cloudformation"
OPERATIONS: dict[str, list[tuple[str, str]]] = {
    "rolling": [
        (AAS, "DeleteScheduledAction"),
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (AAS, "PutScalingPolicy"),
        (AAS, "PutScheduledAction"),
        (AAS, "RegisterScalableTarget"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "DescribeTasks"),
        (ECS, "ListTasks"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "UpdateService"),
    ],
    "canary": [
        (ECS, "CreateService"),
        (ECS, "DeleteService"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "DescribeTasks"),
        (ECS, "ListTasks"),
        (ECS, "RegisterTaskDefinition"),
    ],
    "bluegreen": [
        (AAS, "DeleteScalingPolicy"),
        (AAS, "DeregisterScalableTarget"),
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (AAS, "PutScalingPolicy"),
        (AAS, "RegisterScalableTarget"),
        (ECS, "CreateService"),
        (ECS, "DeleteService"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "TagResource"),
        (ECS, "UpdateService"),
        (ELB, "DescribeListeners"),
        (ELB, "DescribeLoadBalancers"),
        (ELB, "DescribeRules"),
        (ELB, "DescribeTargetGroups"),
        (ELB, "DescribeTargetHealth"),
        (ELB, "ModifyListener"),
    ],
    # Create Service (isTrafficShift), Traffic Shift Inherit 50 and 100
    "bg_inherit": [
        (AAS, "DeleteScalingPolicy"),
        (AAS, "DeregisterScalableTarget"),
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (AAS, "PutScalingPolicy"),
        (AAS, "RegisterScalableTarget"),
        (ECS, "CreateService"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "TagResource"),
        (ECS, "UpdateService"),
        (ELB, "DescribeListeners"),
        (ELB, "DescribeLoadBalancers"),
        (ELB, "DescribeRules"),
        (ELB, "DescribeTargetGroups"),
        (ELB, "DescribeTargetHealth"),
        (ELB, "ModifyListener"),
    ],
    # ... with a Standalone shift of a dev rule between them
    "bg_standalone": [
        (AAS, "DeleteScalingPolicy"),
        (AAS, "DeregisterScalableTarget"),
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (AAS, "PutScalingPolicy"),
        (AAS, "RegisterScalableTarget"),
        (ECS, "CreateService"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "TagResource"),
        (ECS, "UpdateService"),
        (ELB, "DescribeListeners"),
        (ELB, "DescribeLoadBalancers"),
        (ELB, "DescribeRules"),
        (ELB, "DescribeTargetGroups"),
        (ELB, "DescribeTargetHealth"),
        (ELB, "ModifyListener"),
        (ELB, "ModifyRule"),
    ],
    "basic": [
        (AAS, "DeleteScalingPolicy"),
        (AAS, "DeregisterScalableTarget"),
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (AAS, "PutScalingPolicy"),
        (AAS, "RegisterScalableTarget"),
        (ECS, "CreateService"),
        (ECS, "DeleteService"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "DescribeTasks"),
        (ECS, "ListServices"),
        (ECS, "ListTasks"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "UpdateService"),
    ],
    "scale": [
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTasks"),
        (ECS, "ListTasks"),
        (ECS, "UpdateService"),
    ],
    # Create Stack of an existing stack (updated) and of a new one, then a rolling deploy
    "provision": [
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (CFN, "CreateStack"),
        (CFN, "DescribeStackEvents"),
        (CFN, "DescribeStacks"),
        (CFN, "GetTemplate"),
        (CFN, "UpdateStack"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "DescribeTasks"),
        (ECS, "ListTasks"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "UpdateService"),
    ],
    # the release fails; Rolling Rollback, then Rollback Stack of both stacks (only the stack
    # operations get faults here: the rolling rollback's are the rolling strategy's)
    "provision_rollback": [
        (CFN, "DeleteStack"),
        (CFN, "DescribeStackEvents"),
        (CFN, "DescribeStacks"),
        (CFN, "UpdateStack"),
    ],
    # ECS Rolling Deploy of a BLUE_GREEN service: it follows the service deployment ECS runs
    "native_bg": [
        (AAS, "DescribeScalableTargets"),
        (AAS, "DescribeScalingPolicies"),
        (AAS, "DescribeScheduledActions"),
        (ECS, "DescribeServiceDeployments"),
        (ECS, "DescribeServices"),
        (ECS, "DescribeTaskDefinition"),
        (ECS, "DescribeTasks"),
        (ECS, "ListTasks"),
        (ECS, "RegisterTaskDefinition"),
        (ECS, "UpdateService"),
    ],
}
# ... and with ECS's LINEAR and CANARY strategies: the same calls (ECS moves the weights)
OPERATIONS["native_linear"] = list(OPERATIONS["native_bg"])
OPERATIONS["native_canary"] = list(OPERATIONS["native_bg"])

FAULTS: dict[str, dict[str, Any]] = {
    "throttle storm": {"kind": "throttle", "count": 6},
    "5xx": {"kind": "error", "status": 503, "count": 3},
    "latency": {"kind": "latency", "latency_ms": 400, "count": 3},
    "dropped connection": {"kind": "drop", "count": 2},
    "drop_after": {"kind": "drop_after", "count": 1},
}


@dataclass(frozen=True)
class Scenario:
    strategy: str
    what: str  # "clean", "<fault> on <service>:<operation>", "tasks: <failure>", "kept ...", "outage ..."
    fault: dict[str, Any] | None = None
    failure: str | None = None
    # "": the fault is cleared before the rollback; "kept": the release fails and the fault stays
    # while the rollback runs; "outage": the endpoint is down from the first change on, longer
    # than the step's retries, and stays down while the first rollback runs
    family: str = ""

    @property
    def id(self) -> str:
        return f"{self.strategy}: {self.what}"


@dataclass
class Outcome:
    scenario: Scenario
    outcome: str  # "finished", "restored" or "BROKEN: ..."
    seconds: float = 0.0
    calls: list[tuple[str, str]] = field(default_factory=list)
    end_state: dict[str, Any] | None = None  # of a finished deployment (end_state.py)

    @property
    def ok(self) -> bool:
        return self.outcome in ("finished", "restored", "restored (by a second rollback)")


# Scenarios known to end BROKEN, by id prefix, with why (found by this matrix; the fix belongs to
# the product, not here). `python -m tests.reliability` still reports them BROKEN and exits 1;
# the test suite marks them as strict expected failures, so a fix makes them fail until removed.
NATIVE_REDEPLOY = (
    "the release turned the circuit breaker on without rollback; ECS stopped the failed release "
    "where it was (production still on blue), and ECS Rolling Rollback must put the old task "
    "definition back, which starts a new service deployment (taskDefinition 'triggers a new service "
    "deployment', UpdateService, ECS API Reference): ECS deploys the old revision again into the "
    "other target group, so the rules and registrations end swapped (same revision, same weights "
    "on the other group)"
)
KNOWN_BROKEN = {
    f"{strategy}: tasks: circuit breaker without rollback": NATIVE_REDEPLOY for strategy in NATIVE
}


def known_broken(scenario: Scenario) -> str | None:
    return next((why for prefix, why in KNOWN_BROKEN.items() if scenario.id.startswith(prefix)), None)


# The faults kept while the rollback runs: the release's tasks fail (so a rollback runs), the
# fault is on a whole endpoint from the release's start and is not cleared; a fresh one of the
# same kind meets the rollback's first calls to that endpoint (the deploy may have used up the
# first). The rollback's retries must see it through: restored.
KEPT_FAILURE = "container health check fails"
# An endpoint's outage: every call to it answers 503 from the steps' first change on, for longer
# than the step's retries (its deadline, OUTAGE_STEP_TIMEOUT seconds); it lasts while the first
# rollback runs (which fails clearly if it needs the endpoint), then ends and the rollback runs
# again: restored.
OUTAGE_STEP_TIMEOUT = 2.0
OUTAGE: dict[str, Any] = {"kind": "error", "status": 503, "code": "ServiceUnavailable", "count": None}


def endpoints(strategy: str) -> list[str]:
    """The AWS endpoints a strategy's steps call (the rollback's too)."""
    found = {service for service, _ in OPERATIONS[strategy]}
    if strategy in ROLLBACK_FAULTS:  # its release fails: the rolling rollback calls ECS
        found.add(ECS)
    return sorted(found)


def kept(strategy: str, name: str, endpoint: str) -> Scenario:
    spec = {**FAULTS[name], "service": endpoint, "operation": "*"}
    return Scenario(strategy, f"kept {name} on {endpoint} through the rollback", fault=spec, family="kept")


def outage(strategy: str, endpoint: str) -> Scenario:
    spec = {**OUTAGE, "service": endpoint, "operation": "*"}
    return Scenario(strategy, f"outage of {endpoint}", fault=spec, family="outage")


def matrix(operations: dict[str, list[tuple[str, str]]] | None = None) -> list[Scenario]:
    """Every scenario: clean runs, each fault on each operation, each failing-task kind, each
    fault kept on each endpoint through the rollback, each endpoint's outage."""
    operations = operations or OPERATIONS
    found = []
    for strategy in STRATEGIES:
        found.append(Scenario(strategy, "clean"))
        for service, operation in operations[strategy]:
            for name, fault in FAULTS.items():
                spec = {**fault, "service": service, "operation": operation}
                found.append(Scenario(strategy, f"{name} on {service}:{operation}", fault=spec))
        if strategy not in ROLLBACK_FAULTS:
            for failure in FAILURES:
                found.append(Scenario(strategy, f"tasks: {failure}", failure=failure))
        for endpoint in endpoints(strategy):
            found += [kept(strategy, name, endpoint) for name in FAULTS]
            found.append(outage(strategy, endpoint))
    return found


# the fast subset: per strategy, each fault kind on the operation that makes the change, two
# failing-task kinds, the clean run
FAST_OPERATIONS = {
    "rolling": ("ecs", "UpdateService"),
    "canary": ("ecs", "CreateService"),
    "bluegreen": ("elasticloadbalancing", "ModifyListener"),
    "bg_inherit": ("elasticloadbalancing", "ModifyListener"),
    "bg_standalone": ("elasticloadbalancing", "ModifyRule"),
    "basic": ("ecs", "UpdateService"),
    "scale": ("ecs", "UpdateService"),
    "native_bg": ("ecs", "UpdateService"),
    "native_linear": ("ecs", "UpdateService"),
    "native_canary": ("ecs", "UpdateService"),
}
# the native strategies share their calls and rollback path (ECS moves the weights): in the fast
# subset a few fault kinds on the change (a throttle storm, slow to retry, is in the rolling,
# basic and scale rows) and the release ECS's circuit breaker rolls back; everything in --full.
# This keeps the subset's run time near what it was before LINEAR and CANARY joined
FAST_NATIVE = {
    "native_bg": ("5xx", "drop_after"),
    "native_linear": ("drop_after",),
    "native_canary": ("5xx",),
}
FAST_FAILURES = ("container health check fails", "circuit breaker with rollback")
# added latency only slows a call down, and a connection dropped before the answer takes the
# path of a 5xx (nothing was done, the call is retried): in the fast subset on rolling only
# (everywhere in --full), which keeps the subset's run time near what it was with the kept
# faults and outages added
FULL_ONLY_FAULTS = ("latency", "dropped connection")
# (a kept fault's release fails its container health checks: that failure is not run alone too)
# the provisioning strategies' fast subset: the change made and its answer lost, once each way
FAST_PICKS = {
    "provision": ("drop_after", (CFN, "UpdateStack")),
    "provision_rollback": ("drop_after", (CFN, "DeleteStack")),
}
# kept faults and outages in the fast subset: one of each on the endpoints whose rollbacks do
# the most (a fault kept: the change made and its answer lost)
FAST_KEPT = (("rolling", "drop_after", AAS), ("bluegreen", "drop_after", ELB), ("basic", "5xx", ECS))
# (not CloudFormation's: its steps retry each call for RetryPolicy.window, 60 s, so an outage
# longer than that takes minutes; it is in the full matrix)
FAST_OUTAGES = (("rolling", ECS), ("bluegreen", ELB), ("basic", AAS))


def fast_matrix() -> list[Scenario]:
    found = []
    for strategy in STRATEGIES:
        found.append(Scenario(strategy, "clean"))
        if strategy in FAST_PICKS:
            name, (service, operation) = FAST_PICKS[strategy]
            spec = {**FAULTS[name], "service": service, "operation": operation}
            found.append(Scenario(strategy, f"{name} on {service}:{operation}", fault=spec))
            continue
        service, operation = FAST_OPERATIONS[strategy]
        for name, fault in FAULTS.items():
            if name in FULL_ONLY_FAULTS and strategy != "rolling":
                continue
            if strategy in FAST_NATIVE and name not in FAST_NATIVE[strategy]:
                continue
            spec = {**fault, "service": service, "operation": operation}
            found.append(Scenario(strategy, f"{name} on {service}:{operation}", fault=spec))
        for failure in FAST_FAILURES:
            if failure == KEPT_FAILURE and any(strategy == k[0] for k in FAST_KEPT):
                continue
            # without a circuit breaker ECS's BLUE_GREEN deployment keeps replacing the failing
            # tasks: the step fails only at its 60 s timeout (in --full)
            if failure == KEPT_FAILURE and strategy in NATIVE:
                continue
            if strategy in FAST_NATIVE and failure != "circuit breaker with rollback":
                continue
            found.append(Scenario(strategy, f"tasks: {failure}", failure=failure))
    found += [kept(strategy, name, endpoint) for strategy, name, endpoint in FAST_KEPT]
    found += [outage(strategy, endpoint) for strategy, endpoint in FAST_OUTAGES]
    return found


# ---------------------------------------------------------------- the strategies


@dataclass
class Run:
    """One strategy in one environment: set up, deploy, check, roll back, snapshot."""

    env: EcsEnv
    image: str = "web:2"
    circuit_breaker: tuple[bool, bool] | None = None
    timeout: float = 60.0

    def setup(self) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def deploy(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def finished(self, aws: dict[str, Any]) -> list[str]:
        """What is wrong with the end state of a successful deployment (nothing: []); `aws` is the
        whole end state (end_state.py), judged against what the steps were asked for."""
        raise NotImplementedError

    def context(self) -> Any:
        return self.env.context(timeout=self.timeout)

    def journaled(self) -> dict[str, Any]:
        return dict(json.loads(json.dumps(self.env.checkpoints[-1])))


def _runs_release(env: EcsEnv, name: str, image: str) -> list[str]:
    service = env.describe(name)
    if service is None or service["status"] != "ACTIVE":
        return [f"service {name} is not ACTIVE"]
    problems = []
    deployments = service["deployments"]
    if len(deployments) != 1 or deployments[0].get("rolloutState") != "COMPLETED":
        problems.append(f"{name}: deployments {[(d['status'], d.get('rolloutState')) for d in deployments]}")
    images = [
        c["image"]
        for c in env.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"][
            "containerDefinitions"
        ]
    ]
    if image not in images:
        problems.append(f"{name} runs {images}, not {image}")
    if service["runningCount"] != service["desiredCount"]:
        problems.append(f"{name}: {service['runningCount']}/{service['desiredCount']} running")
    return problems


class RollingRun(Run):
    """The release changes the Service Connect alias and replaces the scheduled action."""

    def target(
        self, image: str, circuit_breaker: tuple[bool, bool] | None = None, release: bool = True
    ) -> Any:
        return self.env.target(
            "web",
            image,
            load_balancer=self.env.alb().groups[0],
            tags={"team": "payments"},
            health_check=True,
            desired=2,
            circuit_breaker=circuit_breaker or (False, False),
            scalable_targets=[scalable_target(1, 4)],
            scaling_policies=[cpu_policy()],
            scheduled_actions=[scheduled_action("peak" if release else "night", "rate(6 hours)", 2, 4)],
            serviceConnectConfiguration=_service_connect("web.v2" if release else "web.v1"),
        )

    def setup(self) -> None:
        live = self.target("web:1", release=False)
        self.env.create_live_service(
            live,
            scalable_targets=[scalable_target(1, 4)],
            scaling_policies=[cpu_policy()],
            scheduled_actions=live.scheduled_actions,
        )

    def state(self) -> dict[str, Any]:
        return snapshot(self.env, "web")

    def deploy(self) -> None:
        rolling_deploy(self.context(), self.target(self.image, self.circuit_breaker), RollingDeployOptions())

    def rollback(self) -> None:
        rolling_rollback(self.context(), self.target(self.image), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        problems = _runs_release(self.env, "web", self.image)
        problems += expected.released_as_asked(aws, self.env.cluster, self.target(self.image))
        aliases = [
            alias["dnsName"]
            for d in aws["services"]["web"]["deployments"]
            for s in (d["serviceConnectConfiguration"] or {}).get("services") or []
            for alias in s.get("clientAliases") or []
        ]
        if aliases != ["web.v2"]:
            problems.append(f"web's Service Connect aliases are {aliases}, not ['web.v2']")
        return problems


class CanaryRun(Run):
    """Canary Deploy, then Canary Delete (the canary pipeline's steps around its checks)."""

    def target(self, image: str) -> Any:
        return self.env.target(
            "web",
            image,
            load_balancer=self.env.alb().groups[0],
            tags={"team": "payments"},
            health_check=True,
            circuit_breaker=self.circuit_breaker,
        )

    def setup(self) -> None:
        self.env.create_live_service(self.target("web:1"))

    def state(self) -> dict[str, Any]:
        canary = snapshot(self.env, "webCanary")
        if canary["service"]["status"] == "INACTIVE":  # deleted: as good as never made
            canary["service"]["status"] = "MISSING"
        return {"web": snapshot(self.env, "web"), "webCanary": canary}

    def deploy(self) -> None:
        canary_deploy(self.context(), self.target(self.image), CanaryDeployOptions())
        canary_delete(self.context(), self.target(self.image), CanaryDeleteOptions())

    def rollback(self) -> None:
        if self.env.checkpoints:
            canary_rollback(self.context(), self.target(self.image), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        state = self.state()
        problems = []
        if state["webCanary"]["service"]["status"] not in ("INACTIVE", "MISSING"):
            problems.append(f"the canary service is {state['webCanary']['service']['status']}")
        problems += differences(self.before["web"], state["web"])
        if sorted(aws["services"]) != ["web"]:
            problems.append(f"services {sorted(aws['services'])}, not ['web']")
        if set(expected.in_group(aws, "corral-blue")) != {"web"}:
            problems.append(f"corral-blue holds tasks of {expected.in_group(aws, 'corral-blue')}")
        return problems

    before: dict[str, Any] = {}


class BlueGreenRun(Run):
    """Blue Green Create Service, then Swap Target Groups."""

    def setup(self) -> None:
        alb = self.env.alb()
        live_service(self.env, "web__1", "web:1", alb.groups[0])
        live_service(self.env, "web__2", "web:0", alb.groups[1], version="GREEN", desired=0, scaling=False)

    def target(self) -> Any:
        extra = {"circuit_breaker": self.circuit_breaker} if self.circuit_breaker else {}
        return bg_target(self.env, self.image, health_check=True, **extra)

    def state(self) -> dict[str, Any]:
        return bg_state(self.env, self.env.alb())

    def deploy(self) -> None:
        alb = self.env.alb()
        blue_green_create_service(self.context(), self.target(), create_options(alb))
        setup = self.journaled()
        blue_green_swap_target_groups(self.context(), self.target(), SwapTargetGroupsOptions(setup=setup))

    def rollback(self) -> None:
        if self.env.checkpoints:
            blue_green_rollback(self.context(), self.target(), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        """Swap: web__2 runs the release with its autoscaling, tagged BLUE, behind production (:80)
        and alone in corral-green; web__1 kept at 0, GREEN, without autoscaling, behind :8080."""
        alb = self.env.alb()
        problems = _runs_release(self.env, "web__2", self.image)
        if forwards(self.env, alb.listeners[0]) != {alb.groups[1]: 1}:
            problems.append(f"production forwards to {forwards(self.env, alb.listeners[0])}")
        return problems + self.cut_over(aws, stage="corral-blue")

    def cut_over(self, aws: dict[str, Any], stage: str | None) -> list[str]:
        problems = expected.released_as_asked(aws, self.env.cluster, self.target(), "web__2")
        if aws["services"].get("web__2", {}).get("tags", {}).get("BG_VERSION") != "BLUE":
            problems.append("web__2 is not tagged BLUE")
        problems += expected.downsized(aws, self.env.cluster, "web__1")
        if stage is not None and expected.forwards(aws, "corral:8080") != {stage: 1}:
            problems.append(f"the stage listener forwards to {expected.forwards(aws, 'corral:8080')}")
        if set(expected.in_group(aws, "corral-green")) != {"web__2"}:
            problems.append(f"corral-green holds tasks of {expected.in_group(aws, 'corral-green')}")
        if expected.in_group(aws, "corral-blue"):
            problems.append(f"corral-blue still holds tasks of {expected.in_group(aws, 'corral-blue')}")
        return problems


class TrafficShiftRun(BlueGreenRun):
    """Blue Green Create Service with isTrafficShift (prod: the :80 listener's default rule), then
    Traffic Shift Inherit at 50 and at 100; rollback: ECS Blue Green Rollback."""

    def setup(self) -> None:
        alb = self.env.alb()
        # the :8080 listener answers by itself: the second target group starts attached to nothing
        self.env.elbv2.modify_listener(
            ListenerArn=alb.listeners[1],
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}],
        )
        live_service(self.env, "web__1", "web:1", alb.groups[0])

    def create(self) -> None:
        alb = self.env.alb()
        options = BlueGreenCreateServiceOptions(
            load_balancer="corral",
            prod_listener=alb.listeners[0],
            is_traffic_shift=True,
            stage_target_group_arn=alb.groups[1],
        )
        blue_green_create_service(self.context(), self.target(), options)

    def shift(self, weight: int) -> None:
        options = TrafficShiftOptions(weight_percentage=weight, setup=self.journaled())
        blue_green_traffic_shift(self.context(), self.target(), options)

    def deploy(self) -> None:
        self.create()
        self.shift(50)
        self.shift(100)

    def finished(self, aws: dict[str, Any]) -> list[str]:
        alb = self.env.alb()
        problems = _runs_release(self.env, "web__2", self.image)
        if forwards(self.env, alb.listeners[0]) != {alb.groups[0]: 0, alb.groups[1]: 100}:
            problems.append(f"production forwards to {forwards(self.env, alb.listeners[0])}")
        return problems + self.cut_over(aws, stage=None)


class StandaloneShiftRun(TrafficShiftRun):
    """As TrafficShiftRun, with a Standalone shift of a dev rule (both target groups) to 70/30
    between Create Service and the Inherit shift to 100; rollback: ECS Blue Green Rollback, then
    Stand Alone Traffic Shift Rollback, as Harness's example pipelines order them."""

    def dev_rule(self) -> str:
        alb = self.env.alb()
        rules = self.env.elbv2.describe_rules(ListenerArn=alb.listeners[0])["Rules"]
        return next(r["RuleArn"] for r in rules if not r["IsDefault"])

    def setup(self) -> None:
        super().setup()
        alb = self.env.alb()
        both = {"TargetGroups": [{"TargetGroupArn": alb.groups[0], "Weight": 100},
                                 {"TargetGroupArn": alb.groups[1], "Weight": 0}]}  # fmt: skip
        self.env.elbv2.create_rule(
            ListenerArn=alb.listeners[0],
            Priority=10,
            Conditions=[{"Field": "host-header", "Values": ["dev.example.com"]}],
            Actions=[{"Type": "forward", "ForwardConfig": both}],
        )

    def deploy(self) -> None:
        alb = self.env.alb()
        self.create()
        options = StandaloneShiftOptions(
            load_balancer="corral",
            listener=alb.listeners[0],
            listener_rule_arn=self.dev_rule(),
            forward_config=[(alb.groups[1], 70), (alb.groups[0], 30)],
            setup=self.journaled(),
        )
        standalone_traffic_shift(self.context(), self.target(), options)
        self.shift(100)

    def rollback(self) -> None:
        if self.env.checkpoints:
            blue_green_rollback(self.context(), self.target(), self.journaled())
            standalone_traffic_shift_rollback(self.context(), self.target(), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        alb = self.env.alb()
        problems = super().finished(aws)
        rule = self.env.elbv2.describe_rules(RuleArns=[self.dev_rule()])["Rules"][0]
        if forward_weights(rule["Actions"]) != {alb.groups[1]: 70, alb.groups[0]: 30}:
            problems.append(f"the dev rule forwards to {forward_weights(rule['Actions'])}")
        return problems


class BasicRun(Run):
    """ECS Service Setup, then two ECS Upgrade Container phases (50 %, 100 %), over a running
    version with autoscaling and a stale version at 0."""

    VERSIONS = ("web__1", "web__2", "web__3")

    def target(self, image: str) -> Any:
        extra = {"circuit_breaker": self.circuit_breaker} if self.circuit_breaker else {}
        target = self.env.target(
            "web", image, load_balancer=self.env.alb().groups[0], health_check=True, desired=4, **extra
        )
        return target

    def setup(self) -> None:
        stale = self.target("web:0")
        stale.service_definition |= {"serviceName": "web__1", "desiredCount": 0}
        self.env.create_live_service(stale)
        live = self.target("web:1")
        live.service_definition["serviceName"] = "web__2"
        self.env.create_live_service(
            live, scalable_targets=[scalable_target(1, 6)], scaling_policies=[cpu_policy()]
        )

    def state(self) -> dict[str, Any]:
        found = {}
        for name in self.VERSIONS:
            state = snapshot(self.env, name)
            if state["service"]["status"] == "INACTIVE":  # deleted: as good as never made
                state["service"]["status"] = "MISSING"
            found[name] = state
        return found

    def deploy(self) -> None:
        target = self.target(self.image)
        service_setup(self.context(), target, ServiceSetupOptions())
        setup = self.journaled()
        for percent in (50, 100):
            upgrade_container(
                self.context(), target, UpgradeContainerOptions(percent, "Percentage", setup=setup)
            )

    def rollback(self) -> None:
        if self.env.checkpoints:
            basic_rollback(self.context(), self.target(self.image), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        """web__3 runs the release with all 4 tasks and the autoscaling web__2 had; web__2 is kept
        at 0 without autoscaling; the stale web__1 (at 0) is removed (Service Setup)."""
        state = self.state()
        problems = _runs_release(self.env, "web__3", self.image)
        if state["web__2"]["service"].get("desiredCount") != 0:
            problems.append(f"the old version runs {state['web__2']['service'].get('desiredCount')} tasks")
        moved = self.target(self.image)
        moved.scalable_targets, moved.scaling_policies = [scalable_target(1, 6)], [cpu_policy()]
        problems += expected.released_as_asked(aws, self.env.cluster, moved, "web__3")
        problems += expected.downsized(aws, self.env.cluster, "web__2", version=None)
        if "web__1" in aws["services"]:
            problems.append("the stale version web__1 was not removed")
        if set(expected.in_group(aws, "corral-blue")) != {"web__3"}:
            problems.append(f"corral-blue holds tasks of {expected.in_group(aws, 'corral-blue')}")
        return problems


class ScaleRun(Run):
    """ECS Scale of a running service with autoscaling, from 2 tasks to 4 (new tasks run `image`)."""

    def target(self) -> Any:
        return self.env.target("web", self.image, load_balancer=self.env.alb().groups[0], health_check=True)

    def setup(self) -> None:
        self.env.create_live_service(
            self.target(), scalable_targets=[scalable_target(1, 6)], scaling_policies=[cpu_policy()]
        )

    def state(self) -> dict[str, Any]:
        return snapshot(self.env, "web")

    def deploy(self) -> None:
        scale(self.context(), self.target(), ScaleOptions(instances=4))

    def rollback(self) -> None:
        if self.env.checkpoints:
            scale_rollback(self.context(), self.target(), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        service = self.env.describe("web") or {}
        running = (service.get("desiredCount"), service.get("runningCount"))
        problems = [] if running == (4, 4) else [f"web runs {running[1]} of {running[0]} tasks, not 4"]
        asked = self.target()
        asked.scalable_targets, asked.scaling_policies = [scalable_target(1, 6)], [cpu_policy()]
        problems += expected.autoscaling_as_asked(aws, self.env.cluster, "web", asked)
        if expected.in_group(aws, "corral-blue") != {"web": {"healthy": 4}}:
            problems.append(
                f"corral-blue holds {expected.in_group(aws, 'corral-blue')}, not 4 healthy web tasks"
            )
        return problems


class ProvisionRun(Run):
    """Create Stack of `web-shared` (it exists: updated) and of `web-release` (new), then ECS
    Rolling Deploy; rollback: Rolling Rollback, then Rollback Stack of each stack, newest first.
    Each Create Stack journals the stack as it was before changing it, as the step does."""

    faults_in_rollback = False

    def target(self, image: str) -> Any:
        extra = {"circuit_breaker": self.circuit_breaker} if self.circuit_breaker else {}
        return self.env.target(
            "web", image, load_balancer=self.env.alb().groups[0], health_check=True, **extra
        )

    def setup(self) -> None:
        self.env.create_live_service(self.target("web:1"))
        stacks.create_shared(self.env.sandbox.client("cloudformation"))
        self.stacks: list[dict[str, Any]] = []

    def state(self) -> dict[str, Any]:
        return {"web": snapshot(self.env, "web"), "stacks": stacks.stack_state(self.env.sandbox)}

    def watch(self) -> cfn.Watch:
        return cfn.Watch(info=lambda _: None, stopped=lambda: False, polling=stacks.POLLING)

    def deploy(self) -> None:
        client = self.env.clients.client("cloudformation")
        for request in stacks.release_requests(self.env.vpc_id):
            before = cfn.existing_stack(client, request.stack_name)
            self.stacks.append(json.loads(json.dumps({"stackName": request.stack_name, "before": before})))
            try:
                cfn.create_or_update(client, request, self.watch())
            except CorralError as exc:  # the step fails; the stage rolls back
                raise DeploymentError(str(exc)) from exc
        rolling_deploy(self.context(), self.target(self.image), RollingDeployOptions())

    def rollback(self) -> None:
        if self.env.checkpoints:
            rolling_rollback(self.context(), self.target(self.image), self.journaled())
        client = self.env.clients.client("cloudformation")
        for record in reversed(self.stacks):
            try:
                cfn.restore(client, record["stackName"], record["before"], self.watch())
            except CorralError as exc:  # the Rollback Stack step fails with this message
                raise DeploymentError(str(exc)) from exc

    def finished(self, aws: dict[str, Any]) -> list[str]:
        problems = _runs_release(self.env, "web", self.image) + stacks.released(self.state()["stacks"])
        return problems + expected.released_as_asked(aws, self.env.cluster, self.target(self.image))


class ProvisionRollbackRun(ProvisionRun):
    """As ProvisionRun, with a release whose containers fail their health checks: the deployment
    always fails and the faults hit the rollback."""

    faults_in_rollback = True

    def setup(self) -> None:
        super().setup()
        self.env.admin.set_images({"image": "web:2", **FAILURES["container health check fails"].image})


# ECS's infrastructure role for load balancers (the sandbox has no IAM: any role ARN is taken)
NATIVE_ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"


class NativeBlueGreenRun(Run):
    """A service with ECS's own BLUE_GREEN strategy, released by ECS Rolling Deploy, which follows
    the service deployment ECS runs; rollback: ECS Rolling Rollback (ECS deploys the old revision
    the same way). As ECS's docs set it up: a production rule on :80 and a test rule on :8080,
    each forwarding to corral-blue at 100 and corral-green at 0; the release shifts both to green."""

    production_rule = ""
    test_rule = ""

    def target(self, image: str, circuit_breaker: tuple[bool, bool] | None = None) -> Any:
        alb = self.env.alb()
        target = self.env.target(
            "web",
            image,
            load_balancer=alb.groups[0],
            health_check=True,
            desired=2,
            tags={"team": "payments"},
            circuit_breaker=circuit_breaker or (False, False),
            scalable_targets=[scalable_target(1, 4)],
            scaling_policies=[cpu_policy()],
        )
        target.service_definition["deploymentConfiguration"].update(
            strategy="BLUE_GREEN", bakeTimeInMinutes=1
        )
        target.service_definition["loadBalancers"][0]["advancedConfiguration"] = {
            "alternateTargetGroupArn": alb.groups[1],
            "productionListenerRule": self.production_rule,
            "testListenerRule": self.test_rule,
            "roleArn": NATIVE_ROLE,
        }
        return target

    def setup(self) -> None:
        alb = self.env.alb()
        forward = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": alb.groups[0], "Weight": 100},
                    {"TargetGroupArn": alb.groups[1], "Weight": 0},
                ]
            },
        }
        self.production_rule, self.test_rule = (
            self.env.elbv2.create_rule(
                ListenerArn=listener,
                Priority=10,
                Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                Actions=[forward],
            )["Rules"][0]["RuleArn"]
            for listener in alb.listeners
        )
        self.env.create_live_service(
            self.target("web:1"), scalable_targets=[scalable_target(1, 4)], scaling_policies=[cpu_policy()]
        )

    def state(self) -> dict[str, Any]:
        return snapshot(self.env, "web")

    def deploy(self) -> None:
        rolling_deploy(self.context(), self.target(self.image, self.circuit_breaker), RollingDeployOptions())

    def rollback(self) -> None:
        if self.env.checkpoints:
            rolling_rollback(self.context(), self.target(self.image), self.journaled())

    def finished(self, aws: dict[str, Any]) -> list[str]:
        """web runs the release with its autoscaling; both rules forward all traffic to
        corral-green, where web's two tasks are, and nothing is left in corral-blue."""
        problems = _runs_release(self.env, "web", self.image)
        problems += expected.released_as_asked(aws, self.env.cluster, self.target(self.image))
        for listener in ("corral:80", "corral:8080"):
            weights = expected.forwards(aws, listener, "10")
            if weights != {"corral-blue": 0, "corral-green": 100}:
                problems.append(f"the rule of {listener} forwards {weights}, not all to corral-green")
        if expected.in_group(aws, "corral-green") != {"web": {"healthy": 2}}:
            problems.append(f"corral-green holds {expected.in_group(aws, 'corral-green')}, not web's 2 tasks")
        if expected.in_group(aws, "corral-blue"):
            problems.append(f"corral-blue still holds {expected.in_group(aws, 'corral-blue')}")
        return problems


class NativeLinearRun(NativeBlueGreenRun):
    """As NativeBlueGreenRun with ECS's LINEAR strategy: the production rule moves 50 % at a time,
    a minute's bake between the steps (the test rule all at once, before)."""

    def target(self, image: str, circuit_breaker: tuple[bool, bool] | None = None) -> Any:
        target = super().target(image, circuit_breaker)
        target.service_definition["deploymentConfiguration"].update(
            strategy="LINEAR", linearConfiguration={"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}
        )
        return target


class NativeCanaryRun(NativeBlueGreenRun):
    """As NativeBlueGreenRun with ECS's CANARY strategy: 10 % of production first, the rest after
    a minute's canary bake."""

    def target(self, image: str, circuit_breaker: tuple[bool, bool] | None = None) -> Any:
        target = super().target(image, circuit_breaker)
        target.service_definition["deploymentConfiguration"].update(
            strategy="CANARY", canaryConfiguration={"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1}
        )
        return target


def _service_connect(alias: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "namespace": "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-apps",
        "services": [
            {"portName": "http", "discoveryName": "web", "clientAliases": [{"port": 80, "dnsName": alias}]}
        ],
    }


RUNS: dict[str, Callable[..., Run]] = {
    "rolling": RollingRun,
    "canary": CanaryRun,
    "bluegreen": BlueGreenRun,
    "bg_inherit": TrafficShiftRun,
    "bg_standalone": StandaloneShiftRun,
    "basic": BasicRun,
    "scale": ScaleRun,
    "provision": ProvisionRun,
    "provision_rollback": ProvisionRollbackRun,
    "native_bg": NativeBlueGreenRun,
    "native_linear": NativeLinearRun,
    "native_canary": NativeCanaryRun,
}


def run_scenario(
    scenario: Scenario, reference: dict[str, Any] | None = None, *, find_reference: bool = True
) -> Outcome:
    """Run one scenario. A finished deployment is also compared with `reference`, the whole end
    state of the strategy's clean run (by default its clean run, once per process: `clean_run`;
    none when that run is itself broken: the clean row fails the matrix, and this scenario is
    judged by the strategy's own checks alone)."""
    wanted = scenario.what != "clean" and scenario.strategy not in ROLLBACK_FAULTS
    if reference is None and wanted and find_reference:
        reference = clean_run(scenario.strategy).end_state
    started = time.monotonic()
    with Sandbox(speed=SPEED) as sandbox:
        if scenario.strategy.startswith("provision"):  # moto's CloudWatch Logs outlives a sandbox
            sandbox.app.reset()
        env = EcsEnv.create(sandbox)
        run = RUNS[scenario.strategy](env)
        run.setup()
        before = {"strategy": run.state(), "aws": end_state(env)}  # the set-up waited for steady
        if isinstance(run, CanaryRun):
            run.before = before["strategy"]
        failure_name = scenario.failure
        if scenario.family == "kept" and scenario.strategy not in ROLLBACK_FAULTS:
            failure_name = KEPT_FAILURE  # the release fails, so the rollback runs in the fault
        if failure_name is not None:
            failure = FAILURES[failure_name]
            env.admin.set_images({"image": "web:2", **failure.image})
            run.circuit_breaker, run.timeout = failure.circuit_breaker, failure.timeout
        if scenario.family == "outage":
            run.timeout = OUTAGE_STEP_TIMEOUT
        in_rollback = bool(getattr(run, "faults_in_rollback", False)) and scenario.family == ""
        seq = env.admin.last_call()
        outage = _Outage(env, seq, scenario.fault) if scenario.family == "outage" else None
        if scenario.fault is not None and not in_rollback and outage is None:
            env.admin.add_fault(**scenario.fault)
        try:
            run.deploy()
            deployed_error = None
        except DeploymentError as exc:
            deployed_error = exc
        except Exception as exc:  # anything but a DeploymentError reaches the user as a traceback
            return Outcome(scenario, f"BROKEN: {type(exc).__name__}: {exc}", time.monotonic() - started)
        finally:
            if outage is not None:
                outage.stop()
        calls = _calls(env, seq)
        if deployed_error is None:
            env.admin.clear_faults()
            after = _settled(run)
            problems = _finished(run, after, reference)
            if problems:  # judged again once the whole state has settled (a target still draining)
                after = _settled(run, whole=True)
                problems = _finished(run, after, reference)
            outcome = "finished" if not problems else "BROKEN: finished with " + "; ".join(problems[:6])
            kept_state = after["aws"] if not problems else None
            return Outcome(scenario, outcome, time.monotonic() - started, calls, kept_state)
        if scenario.family == "":
            env.admin.clear_faults()
            run.timeout = 60.0
        if scenario.fault is not None and (in_rollback or scenario.family == "kept"):
            # kept: the deploy's fault is not cleared, and a fresh one meets the rollback's calls
            env.admin.add_fault(**scenario.fault)
        seq = env.admin.last_call()
        journaled = len(env.checkpoints)
        try:
            run.rollback()
            first_error = None
        except DeploymentError as exc:  # the fault outlasted the rollback's retries: a clear failure
            first_error = exc
        except Exception as exc:
            return Outcome(
                scenario,
                f"BROKEN: rollback failed: {type(exc).__name__}: {exc}",
                time.monotonic() - started,
                calls,
            )
        if in_rollback:  # what the matrix covers is the rollback's stack operations
            calls = [c for c in _calls(env, seq) if c[0] == CFN]
        env.admin.clear_faults()
        if first_error is not None:
            if scenario.family != "outage":
                return Outcome(
                    scenario, f"BROKEN: rollback failed: {first_error}", time.monotonic() - started, calls
                )
            # the outage has ended: the stage's rollback runs again, from the same journaled data
            del env.checkpoints[journaled:]
            run.timeout = 60.0
            try:
                run.rollback()
            except Exception as exc:
                return Outcome(
                    scenario, f"BROKEN: the second rollback failed: {type(exc).__name__}: {exc}",
                    time.monotonic() - started, calls,
                )  # fmt: skip
        found = differences(before, _settled(run))
        if found:  # compared again once the whole state has settled (a target still draining)
            found = differences(before, _settled(run, whole=True))
        outcome = "restored" if not found else "BROKEN: not restored: " + "; ".join(found[:5])
        if outcome == "restored" and first_error is not None:
            outcome = "restored (by a second rollback)"
        return Outcome(scenario, outcome, time.monotonic() - started, calls)


_CLEAN: dict[str, Outcome] = {}


def clean_run(strategy: str) -> Outcome:
    """The strategy's clean run, once per process (its end state is what faulted runs that
    finish are compared with)."""
    if strategy not in _CLEAN:
        _CLEAN[strategy] = run_scenario(Scenario(strategy, "clean"))
    return _CLEAN[strategy]


class _Outage:
    """Arms a persistent fault (an endpoint's outage) as soon as the steps make their first change
    (the first call that is not a Describe, List or Get), so the outage hits a deployment under
    way; it lasts until the scenario clears the faults."""

    def __init__(self, env: EcsEnv, seq: int, fault: dict[str, Any] | None) -> None:
        assert fault is not None
        self.env, self.seq, self.fault = env, seq, fault
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        admin = self.env.sandbox.admin
        while not self._done.is_set():
            if any(not c["operation"].startswith(READS) for c in admin.calls(self.seq) if not c.get("via")):
                admin.add_fault(**self.fault)
                return
            time.sleep(0.005)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


READS = ("Describe", "List", "Get")


def _calls(env: EcsEnv, seq: int) -> list[tuple[str, str]]:
    """The operations the steps called since `seq` (not those CloudFormation made for a stack)."""
    return sorted({(c["service"], c["operation"]) for c in env.admin.calls(seq) if not c.get("via")})


def _finished(run: Run, after: dict[str, Any], reference: dict[str, Any] | None) -> list[str]:
    problems = run.finished(after["aws"])
    if reference is not None:
        problems += [f"unlike the clean run: {d}" for d in differences(reference, after["aws"])]
    return problems


def _settled(run: Run, timeout: float = 10.0, *, whole: bool = False) -> dict[str, Any]:
    """The strategy's own snapshot and the whole AWS end state (end_state.py), once load balancer
    targets have settled (health checks take a few sandbox seconds). Settling is judged on the
    strategy's snapshot (it holds the services' healthy targets), or with `whole` on everything
    (dearer: used only when a first comparison found a difference)."""

    def read() -> dict[str, Any]:
        return {"strategy": run.state(), "aws": end_state(run.env) if whole else None}

    deadline = time.monotonic() + timeout
    state = read()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        again = read()
        if again == state:
            break
        state = again
    return state if whole else {**state, "aws": end_state(run.env)}


def table(outcomes: list[Outcome]) -> str:
    width = max((len(o.scenario.id) for o in outcomes), default=10)
    lines = [f"{'scenario':{width}s}  {'seconds':>7s}  outcome", "-" * (width + 30)]
    for o in outcomes:
        lines.append(f"{o.scenario.id:{width}s}  {o.seconds:7.1f}  {o.outcome}")
    bad = sum(1 for o in outcomes if not o.ok)
    lines.append(f"{len(outcomes)} scenarios: {len(outcomes) - bad} finished or restored, {bad} broken")
    return "\n".join(lines)
