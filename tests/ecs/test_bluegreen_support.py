"""Shared set-up for the Blue Green and Traffic Shift tests (named test_bluegreen_* to sit with them;
holds no tests): targets with `<+targetGroupArn>`, a live BLUE service made with plain boto3, the
AWS state a rollback must return to, and a sampler proving production traffic always had a
healthy target."""

from __future__ import annotations

import threading
import time
from typing import Any

from corral.ecs.bluegreen import BlueGreenCreateServiceOptions
from corral.ecs.listeners import forward_weights, live_groups
from corral.ecs.target import EcsTarget

from .support import Alb, EcsEnv, cpu_policy, scalable_target, snapshot

PLACEHOLDER = "<+targetGroupArn>"
NAMES = ("web__1", "web__2")


def bg_target(env: EcsEnv, image: str, *, desired: int = 2, scaling: bool = True, **extra: Any) -> EcsTarget:
    """The `web` service of a Blue Green deployment: its load balancer is `<+targetGroupArn>`."""
    return env.target(
        "web",
        image,
        desired=desired,
        load_balancer=PLACEHOLDER,
        scalable_targets=[scalable_target(2, 4)] if scaling else [],
        scaling_policies=[cpu_policy()] if scaling else [],
        **extra,
    )


def create_options(alb: Alb, **extra: Any) -> BlueGreenCreateServiceOptions:
    """Prod listener :80, stage listener :8080, their default rules, load balancer by name."""
    return BlueGreenCreateServiceOptions(
        load_balancer="corral", prod_listener=alb.listeners[0], stage_listener=alb.listeners[1], **extra
    )


def live_service(
    env: EcsEnv,
    name: str,
    image: str,
    group: str,
    *,
    version: str = "BLUE",
    desired: int = 2,
    scaling: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A service of family `web` made with plain boto3 in `group`, tagged BG_VERSION=`version`."""
    target = env.target(
        name, image, family="web", load_balancer=group, desired=desired, tags={"BG_VERSION": version}, **extra
    )
    return env.create_live_service(
        target,
        scalable_targets=[scalable_target(2, 4)] if scaling else None,
        scaling_policies=[cpu_policy()] if scaling else None,
    )


def default_actions(env: EcsEnv, listener: str) -> list[dict[str, Any]]:
    rules = env.elbv2.describe_rules(ListenerArn=listener)["Rules"]
    return next(r["Actions"] for r in rules if r["IsDefault"])


def forwards(env: EcsEnv, listener: str) -> dict[str, int]:
    """The target groups the listener's default rule forwards to, with weights."""
    return forward_weights(default_actions(env, listener))


def tag(env: EcsEnv, name: str) -> str | None:
    service = env.describe(name)
    return {t["key"]: t["value"] for t in (service or {}).get("tags") or []}.get("BG_VERSION")


def registered(env: EcsEnv, group: str) -> set[str]:
    """The healthy targets' IPs of a target group."""
    states = env.elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return {s["Target"]["Id"] for s in states if s["TargetHealth"]["State"] == "healthy"}


def task_ips(env: EcsEnv, name: str) -> set[str]:
    arns = env.ecs.list_tasks(cluster=env.cluster, serviceName=name, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return set()
    tasks = env.ecs.describe_tasks(cluster=env.cluster, tasks=arns)["tasks"]
    return {
        d["value"]
        for t in tasks
        for a in t.get("attachments", [])
        for d in a.get("details", [])
        if d["name"] == "privateIPv4Address"
    }


def bg_state(env: EcsEnv, alb: Alb) -> dict[str, Any]:
    """What a rollback must give back: both services (settings, deployments, tags, autoscaling,
    healthy targets) and every listener rule's actions. A deleted service counts as missing."""
    state: dict[str, Any] = {}
    for name in NAMES:
        found = snapshot(env, name)
        if found["service"]["status"] == "INACTIVE":
            found["service"]["status"] = "MISSING"
        state[name] = found
    state["rules"] = {
        listener: env.elbv2.describe_rules(ListenerArn=listener)["Rules"] for listener in alb.listeners
    }
    return state


class TrafficSampler(threading.Thread):
    """Checks, over and over until stopped, that every target group the prod listener sends
    traffic to has at least one healthy target; keeps what it saw when that failed."""

    def __init__(self, env: EcsEnv, listener: str, *, deferred: bool = False) -> None:
        """`deferred`: the `with` block calls `start()` itself, once production has targets."""
        super().__init__(daemon=True)
        self.deferred = deferred
        self.elbv2 = env.sandbox.client("elbv2")
        self.listener = listener
        self.samples = 0
        self.outages: list[str] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            actions = self._actions()
            for group in live_groups(actions):
                health = self.elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
                states = [h["TargetHealth"]["State"] for h in health]
                # an outage only if the listener still sent traffic there after the health was read
                if "healthy" not in states and self._actions() == actions:
                    self.outages.append(f"{group}: {states}")
            self.samples += 1
            time.sleep(0.01)

    def _actions(self) -> list[dict[str, Any]]:
        rules = self.elbv2.describe_rules(ListenerArn=self.listener)["Rules"]
        return list(next(r["Actions"] for r in rules if r["IsDefault"]))

    def __enter__(self) -> TrafficSampler:
        if not self.deferred:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self.is_alive():
            self.join(5)
