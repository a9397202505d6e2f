"""A rolling deployment behind an ALB: bounds hold throughout, events come in the documented order."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import (
    Alb,
    alb_with_two_listeners,
    describe,
    describe_tasks,
    fargate_definition,
    fargate_service,
    healthy_targets,
    load_balancers_for,
    messages,
    task_ids,
    wait_completed,
)


@dataclass
class Sampler:
    """Samples the service from another thread: healthy targets, tasks, counts."""

    sandbox: Sandbox
    alb: Alb
    violations: list[str] = field(default_factory=list)
    samples: int = 0
    most_tasks: int = 0
    fewest_healthy: int = 99
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        ecs = self.sandbox.client("ecs")
        elb = self.sandbox.client("elbv2")
        alb = Alb(elb, self.alb.lb_arn, self.alb.groups)
        while not self._stop.is_set():
            service = describe(ecs, "apps", "web")
            if service["runningCount"] + service["pendingCount"] > 8:
                self.violations.append(f"running+pending {service['runningCount']}+{service['pendingCount']}")
            ids = task_ids(ecs, "apps", serviceName="web")
            live = (
                [t for t in describe_tasks(ecs, "apps", ids) if t["lastStatus"] != "STOPPED"] if ids else []
            )
            self.most_tasks = max(self.most_tasks, len(ids))
            if len(ids) > 8:
                self.violations.append(f"{len(ids)} tasks listed ({len(live)} not stopped)")
            for group in alb.groups:
                healthy = healthy_targets(alb, group)
                self.fewest_healthy = min(self.fewest_healthy, healthy)
                if healthy < 2:
                    self.violations.append(f"{healthy} healthy targets in {group}")
            self.samples += 1
            time.sleep(0.005)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def in_order(events: list[str], fragments: list[str]) -> list[int]:
    """Index of the first event containing each fragment, each searched after the previous one."""
    found, start = [], 0
    for fragment in fragments:
        index = next(i for i in range(start, len(events)) if fragment in events[i])
        found.append(index)
        start = index + 1
    return found


@pytest.mark.sandbox(speed=20, throttling=False)
def test_rolling_update_behind_an_alb_keeps_its_bounds(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = alb_with_two_listeners(sandbox)
    first = fargate_definition(ecs, "web", "web:1", ports=(80, 8080))
    fargate_service(
        ecs,
        "apps",
        "web",
        first,
        4,
        loadBalancers=load_balancers_for(alb),
        deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200},
    )
    created = wait_completed(ecs, "apps", "web", first)
    assert created["runningCount"] == 4
    assert all(healthy_targets(alb, g) == 4 for g in alb.groups)
    before = len(created["events"])
    old_deployment = created["deployments"][0]["id"]

    second = fargate_definition(ecs, "web", "web:2", ports=(80, 8080))
    with Sampler(sandbox, alb) as sampler:
        updated = ecs.update_service(cluster="apps", service="web", taskDefinition=second)["service"]
        assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
        new_deployment = updated["deployments"][0]["id"]
        done = wait_completed(ecs, "apps", "web", second)
        time.sleep(0.2)
    assert sampler.samples > 5, "the sampler saw the deployment"
    assert sampler.violations == []
    assert sampler.most_tasks >= 6, "4 new tasks start at once while 2 old ones are stopped"
    assert sampler.fewest_healthy == 2, "old tasks are stopped down to minimumHealthyPercent"

    (primary,) = done["deployments"]
    assert primary["id"] == new_deployment != old_deployment
    assert primary["rolloutStateReason"] == f"ECS deployment {new_deployment} completed."
    assert (primary["desiredCount"], primary["runningCount"], primary["failedTasks"]) == (4, 4, 0)
    events = messages(done)[-(len(done["events"]) - before) :]
    order = in_order(  # the reference's order; counts vary with how health checks line up
        events,
        [
            "(service web) has started 4 tasks:",
            f"(service web) registered 1 targets in (target-group {alb.groups[0]})",
            "(service web) has stopped ",
            "(service web) deregistered ",
            f"(service web, taskSet {old_deployment}) has begun draining connections on ",
            f"(service web) (deployment {new_deployment}) deployment completed.",
            "(service web) has reached a steady state.",
        ],
    )
    assert events[1].startswith("(service web) has stopped 2 running tasks:"), (
        "down to the lower bound at once"
    )
    assert order == sorted(order)
    assert events[-2:] == [
        f"(service web) (deployment {new_deployment}) deployment completed.",
        "(service web) has reached a steady state.",
    ]
    completed_at, steady_at = (e["createdAt"] for e in done["events"][1::-1])
    assert 0 < (steady_at - completed_at).total_seconds() < 0.01

    ecs.get_waiter("services_stable").wait(cluster="apps", services=["web"], WaiterConfig={"Delay": 1})
    tasks = describe_tasks(ecs, "apps", task_ids(ecs, "apps", serviceName="web"))
    assert {t["taskDefinitionArn"] for t in tasks} == {second}
    assert {t["startedBy"] for t in tasks} == {new_deployment}
    assert {t["group"] for t in tasks} == {"service:web"}
    stopped = describe_tasks(ecs, "apps", task_ids(ecs, "apps", serviceName="web", desiredStatus="STOPPED"))
    assert len(stopped) == 4
    assert {t["stoppedReason"] for t in stopped} == {
        f"Scaling activity initiated by (deployment {new_deployment})"
    }
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    (record,) = sandbox.admin.steady_states()
    assert record["serviceArn"] == "arn:aws:ecs:us-east-1:123456789012:service/apps/web"
    assert len(record["steadyAt"]) == 2


@pytest.mark.sandbox(speed=50)
def test_targets_failing_elb_health_checks_are_replaced(sandbox: Sandbox) -> None:
    sandbox.admin.set_images({"image": "web:unhealthy", "elbHealth": "fail", "elbStatusCode": 503})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = alb_with_two_listeners(sandbox)
    definition = fargate_definition(ecs, "web", "web:unhealthy", ports=(80, 8080))
    fargate_service(ecs, "apps", "web", definition, 1, loadBalancers=load_balancers_for(alb))

    def replaced() -> list[str] | None:
        events = messages(describe(ecs, "apps", "web"))
        return events if any("replaced 1 tasks due to an unhealthy status" in e for e in events) else None

    events = wait_until(replaced, message="an unhealthy task to be replaced")
    unhealthy = next(e for e in events if "is unhealthy in" in e)
    assert unhealthy.startswith("(service web) (task ")
    assert unhealthy.endswith("due to (reason Health checks failed with these codes: [503]).")
    assert f"(target-group {alb.groups[0]})" in unhealthy or f"(target-group {alb.groups[1]})" in unhealthy
    stopped = describe_tasks(ecs, "apps", task_ids(ecs, "apps", serviceName="web", desiredStatus="STOPPED"))
    assert stopped[0]["stoppedReason"].startswith(
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:"
    )
    assert stopped[0]["stopCode"] == "ServiceSchedulerInitiated"


@pytest.mark.sandbox(speed=50)
def test_grace_period_ignores_failing_health_checks_of_new_tasks(sandbox: Sandbox) -> None:
    sandbox.admin.set_images({"image": "web:slow", "healthyAfter": 60})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = alb_with_two_listeners(sandbox)
    definition = fargate_definition(ecs, "web", "web:slow", ports=(80, 8080))
    fargate_service(
        ecs,
        "apps",
        "web",
        definition,
        1,
        loadBalancers=load_balancers_for(alb),
        healthCheckGracePeriodSeconds=120,
    )
    done = wait_completed(ecs, "apps", "web", definition, timeout=30)
    assert done["deployments"][0]["failedTasks"] == 0
    assert not any("unhealthy" in m for m in messages(done)), "failures inside the grace period are ignored"
    assert len(task_ids(ecs, "apps", serviceName="web", desiredStatus="STOPPED")) == 0
