"""A deployment this execution did not start: waited for (or refused) by every step that changes
the service; Corral's own, recognised from what its checkpoints journaled, never waited for."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from corral.ecs.context import OWN_DEPLOYMENTS, OwnDeployments, StepContext
from corral.ecs.foreign_deployments import ServiceBusy, in_flight
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
from corral.ecs.scale import ScaleOptions, scale

from .support import EcsEnv, task_definition, wait_until

pytestmark = pytest.mark.sandbox(speed=200)

SLOW = {"image": "*:slow", "startDelay": 3600}  # in flight until the test advances the clock
WAITING = "has a deployment in progress that this execution did not start"


def _live(env: EcsEnv) -> Any:
    target = env.target("web", "web:1")
    env.create_live_service(target)
    return target


def _console_deploys(env: EcsEnv, image: str) -> dict[str, Any]:
    """Someone else (console, another tool) starts a deployment with plain boto3."""
    arn = env.ecs.register_task_definition(**task_definition("web", image))["taskDefinition"][
        "taskDefinitionArn"
    ]
    primary: dict[str, Any] = env.ecs.update_service(cluster=env.cluster, service="web", taskDefinition=arn)[
        "service"
    ]["deployments"][0]
    return primary


def _service(*deployments: tuple[str, str | None]) -> dict[str, Any]:
    """A DescribeServices answer with deployments (id, rolloutState), newest (PRIMARY) first."""
    listed = []
    for index, (deployment_id, state) in enumerate(deployments):
        entry = {"id": deployment_id, "status": "ACTIVE" if index else "PRIMARY", "taskDefinition": "td:1"}
        if state is not None:
            entry["rolloutState"] = state
        listed.append(entry)
    return {"serviceName": "web", "status": "ACTIVE", "deployments": listed}


@pytest.mark.parametrize(
    ("service", "busy"),
    [
        (_service(("ecs-svc/1", "COMPLETED")), False),
        (_service(("ecs-svc/2", "IN_PROGRESS"), ("ecs-svc/1", "COMPLETED")), True),
        (_service(("ecs-svc/2", "IN_PROGRESS")), True),  # a new service's first deployment
        # FAILED (circuit breaker, no rollback) launches nothing more: waiting would never end
        (_service(("ecs-svc/2", "FAILED"), ("ecs-svc/1", "COMPLETED")), False),
        # no rolloutState (e.g. behind a Classic Load Balancer): more than one deployment is in flight
        (_service(("ecs-svc/2", None), ("ecs-svc/1", None)), True),
        (_service(("ecs-svc/1", None)), False),
        ({"serviceName": "web", "status": "DRAINING", "deployments": []}, False),
    ],
)
def test_in_flight_is_what_ecs_says(service: dict[str, Any], busy: bool) -> None:
    assert in_flight(service) is busy


def test_own_deployments_by_id_or_by_the_intent_journaled_before_the_call() -> None:
    own = OwnDeployments.merged(
        {
            "started": ["ecs-svc/7"],
            "starting": [{"service": "web", "taskDefinition": "td:3", "after": "ecs-svc/6"}],
        }
    )
    assert own.is_ours("web", {"id": "ecs-svc/7", "taskDefinition": "td:1"})
    assert own.is_ours("web", {"id": "ecs-svc/8", "taskDefinition": "td:3"})  # started, id never journaled
    assert not own.is_ours("web", {"id": "ecs-svc/6", "taskDefinition": "td:3"})  # the one before ours
    assert not own.is_ours("api", {"id": "ecs-svc/8", "taskDefinition": "td:3"})
    assert not own.is_ours("web", {"id": "ecs-svc/9", "taskDefinition": "td:4"})


class Crash(BaseException):
    """The process dies: nothing after this point is journaled."""


def test_a_crash_between_update_service_and_its_journal_entry_is_recognised_from_the_intent(
    env: EcsEnv,
) -> None:
    _live(env)
    env.admin.set_images(SLOW)
    journal: list[dict[str, Any]] = []

    def journal_until_started(data: dict[str, Any]) -> None:
        if (data.get(OWN_DEPLOYMENTS) or {}).get("started"):
            raise Crash  # UpdateService answered; the process dies before journaling the id
        journal.append(json.loads(json.dumps(data)))

    with pytest.raises(Crash):
        rolling_deploy(
            StepContext.with_timeout(env.clients, 60, checkpoint=journal_until_started),
            env.target("web", "web:slow"),
            RollingDeployOptions(),
        )
    ours = env.describe("web")["deployments"][0]  # type: ignore[index]
    assert ours["rolloutState"] == "IN_PROGRESS"
    assert journal[-1][OWN_DEPLOYMENTS]["started"] == []  # only the intent was journaled

    # the re-run (as `corral resume` builds it): what the journal says this execution started
    own = OwnDeployments.merged(journal[-1][OWN_DEPLOYMENTS])
    ctx = env.context(own=own, no_wait=True)  # no_wait: any wait at all would fail the step
    done = threading.Thread(target=lambda: env.admin.advance(3600))
    result: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: result.update(
            rolling_deploy(ctx, env.target("web", "web:slow"), RollingDeployOptions()).outputs
        )
    )
    runner.start()
    wait_until(
        lambda: "Waiting for Service web to reach steady state" in ctx.log.text(),
        message="the re-run to wait",
    )
    done.start()
    runner.join(60)
    done.join()

    assert result["deploymentId"] == ours["id"]  # it started nothing new
    assert WAITING not in ctx.log.text()


def test_someone_else_deploying_over_ours_is_waited_for_then_ours_runs_again(env: EcsEnv) -> None:
    """The race no look can prevent: both saw the service free and updated it, one right after
    the other. Ours is replaced; the step waits for the other deployment, then deploys again."""
    _live(env)
    raced: list[dict[str, Any]] = []

    def race(data: dict[str, Any]) -> None:
        if (data.get(OWN_DEPLOYMENTS) or {}).get("started") and not raced:
            raced.append(_console_deploys(env, "web:other"))

    ctx = StepContext.with_timeout(env.clients, 60, checkpoint=race)
    result = rolling_deploy(ctx, env.target("web", "web:2"), RollingDeployOptions())

    log = ctx.log.text()
    assert f"{WAITING}: deployment {raced[0]['id']}" in log
    assert "it replaced this step's deployment" in log and "then deploying again" in log
    service = env.describe("web")
    assert service is not None and service["taskDefinition"] == result.outputs["taskDefinitionArn"]
    image = env.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert image["containerDefinitions"][0]["image"] == "web:2"
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]


def test_scale_waits_for_a_foreign_deployment_and_refuses_with_no_wait(env: EcsEnv) -> None:
    target = _live(env)
    env.admin.set_images(SLOW)
    console = _console_deploys(env, "web:slow")

    with pytest.raises(ServiceBusy) as refused:
        scale(env.context(no_wait=True), target, ScaleOptions(instances=3))
    assert console["id"] in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert env.describe("web")["desiredCount"] == 2  # type: ignore[index]

    ctx = env.context()
    result: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: result.update(scale(ctx, target, ScaleOptions(instances=3)).outputs)
    )
    runner.start()
    wait_until(lambda: WAITING in ctx.log.text(), message="Scale to wait")
    assert env.describe("web")["desiredCount"] == 2  # type: ignore[index]
    env.admin.advance(3600)
    runner.join(60)
    assert result["desiredCount"] == 3 and result["previousDesiredCount"] == 2
    assert f"deployment {console['id']} (task definition {console['taskDefinition']}" in ctx.log.text()


def test_blue_green_create_service_waits_for_a_deployment_of_the_live_service(env: EcsEnv) -> None:
    from corral.ecs.bluegreen import blue_green_create_service

    from .test_bluegreen_support import bg_target, create_options, forwards, live_service

    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])
    env.admin.set_images(SLOW)
    arn = env.ecs.register_task_definition(**task_definition("web", "web:slow"))["taskDefinition"][
        "taskDefinitionArn"
    ]
    console = env.ecs.update_service(cluster=env.cluster, service="web__1", taskDefinition=arn)["service"]
    console_id = console["deployments"][0]["id"]

    with pytest.raises(ServiceBusy) as refused:
        blue_green_create_service(env.context(no_wait=True), bg_target(env, "web:2"), create_options(alb))
    assert f"Service web__1 {WAITING}: deployment {console_id}" in str(refused.value)
    assert env.describe("web__2") is None  # nothing was changed
    assert forwards(env, alb.listeners[1]) == {alb.groups[1]: 1}

    ctx = env.context()
    done: list[Any] = []
    runner = threading.Thread(
        target=lambda: done.append(
            blue_green_create_service(ctx, bg_target(env, "web:2"), create_options(alb))
        )
    )
    runner.start()
    wait_until(lambda: WAITING in ctx.log.text(), message="Create Service to wait")
    assert env.describe("web__2") is None
    env.admin.advance(3600)
    runner.join(60)
    assert done and done[0].outputs["greenServiceName"] == "web__2"
    green = env.describe("web__2")
    assert green is not None
    definition = env.ecs.describe_task_definition(taskDefinition=green["taskDefinition"])["taskDefinition"]
    assert definition["containerDefinitions"][0]["image"] == "web:2"


def test_the_wait_is_bounded_by_the_step_timeout_and_changes_nothing(env: EcsEnv) -> None:
    from corral.ecs.context import StepTimedOut

    _live(env)
    env.admin.set_images(SLOW)
    console = _console_deploys(env, "web:slow")
    revisions = env.revisions("web")

    # long enough for the step to reach its wait even on a loaded CI machine (at 1.5 s the
    # deadline once ran out before the step's first DescribeServices)
    ctx = env.context(timeout=4.0)
    with pytest.raises(StepTimedOut) as timed_out:
        rolling_deploy(ctx, env.target("web", "web:2"), RollingDeployOptions())
    assert f"deployment {console['id']} of service web" in str(timed_out.value)
    assert "nothing was changed" in str(timed_out.value)
    assert f"Waiting: Service web {WAITING}: deployment {console['id']}" in ctx.log.text()
    assert env.describe("web")["deployments"][0]["id"] == console["id"]  # type: ignore[index]
    assert env.revisions("web") == revisions
