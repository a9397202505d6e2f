"""The runner killed at each step boundary: examples/sandbox-demo pipelines through the engine.

The rolling, canary, blue green, basic, traffic shift, native blue green and linear pipelines each release tag 2 over an uninterrupted release of
tag 1. The measured release runs in its own process (`python -m tests.reliability.kill RUN ...`,
below), which is killed with SIGKILL when a step starts (`Running`; an approval step starts as
`ApprovalWaiting`) or ends (`Success`); then `resume` continues the execution in this process.
Approvals are given here, by a thread that approves whenever the execution waits for one, before
and after the kill (from the kill on when the kill point is the approval's own wait).

The scenario passes when the execution ends in a finished deployment or, after its rollback, in
exactly the state from before. Finished: Success with tag 2 live (rolling and canary: only
`demo-web`, running tag 2, no canary left; blue green: the prod listener forwards to the service
running tag 2 with 2 tasks, tagged BLUE; the old one GREEN, downsized to 0, behind the stage
listener; basic: `demo-web__2` runs tag 2 with 2 tasks, `demo-web__1` tag 1 at 0; traffic shift:
all of the prod rule's traffic reaches the tag 2 service, tagged BLUE, the old one GREEN and
downsized to 0; provisioned: as rolling, and the stack updated to release 2, not made again).
Restored: the services as before (blue green: the services and both listeners' routes; traffic
shift: the prod rule's weights; provisioned: the stack, same id, parameters, outputs, log group).

ECS's own strategies: `demo_native` (ECS Rolling Deploy with waitUntil PAUSED, then the steer
group while ECS waits at its PAUSE hook: an Http check of `url`, the sandbox's health page, an
approval and Continue) and `demo_linear` (one ECS Rolling Deploy following ECS's LINEAR rollout).
Killed while ECS pauses (when the deploy has ended, in the check, in the approval's wait), the
resumed execution continues the paused deployment. Finished: the service runs tag 2 with its 2
tasks, both of its rules forward all traffic to the target group holding them, the other group
holds none; restored: the services, the weights of both rules (as shares of the rule's traffic)
and the healthy targets of both groups as before. `demo_native_failing` runs demo_native with a
check of a page that does not exist: the check fails while ECS pauses and the stage rolls the
deployment back through ECS, so it is also killed in that rollback and must end restored.

The provisioning pipeline (provisioned_demo.py) runs twice: `demo_provisioned` releases tag 2 and
must finish; `demo_provisioned_failing` releases an image that cannot be pulled, so it is killed
in the stage's rollback steps too and must end restored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corral.aws.poller import PollPolicy
from corral.ecs.listeners import forward_weights
from corral.provisioners.cloudformation import StackPolling

from . import provisioned_demo

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
FAST_POLLS = PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05, round_window=30.0)
FAST_STACKS = StackPolling(first=0.05, growth=1.5, slowest=0.3)
SPEED = 50.0
# demo_linear spends 6 sandbox minutes in its steps' and final bake times (no PAUSE hook timing out
# behind a kill): a faster sandbox clock keeps it near the other kill points' time
SPEEDS = {"demo_linear": 200.0}

# pipeline -> its steps in the order they run (each a kill point when it starts and when it ends)
PIPELINES = {
    "demo_rolling": ("EcsRollingDeploy",),
    "demo_canary": ("EcsCanaryDeploy", "EcsCanaryDelete", "EcsRollingDeploy"),
    "demo_bluegreen": ("EcsBlueGreenCreateService", "approve_swap", "EcsBlueGreenSwapTargetGroups"),
    "demo_basic": ("EcsServiceSetup", "EcsUpgradeContainer_50", "approve_phase", "EcsUpgradeContainer_100"),
    "demo_trafficshift": ("EcsBlueGreenCreateService", "shift_half", "shift_all"),
    # provisioned.py: CreateStack (updates the stack the first release made), then a rolling deploy
    "demo_provisioned": ("create_stack", "EcsRollingDeploy"),
    # the same pipeline with a release whose image cannot be pulled: the stage rolls back the
    # service, then the stack (Rollback Stack updates it back to release 1)
    "demo_provisioned_failing": ("create_stack", "EcsRollingDeploy", "EcsRollingRollback", "rollback_stack"),
    # ECS's own blue/green: the deploy ends when ECS pauses at its PAUSE hook (test traffic on the
    # new revision); the steer group's Http check, approval and Continue run while ECS waits
    "demo_native": ("deploy", "check", "approve", "continue"),
    # ECS's own linear rollout, followed by one ECS Rolling Deploy until ECS says SUCCESSFUL
    "demo_linear": ("EcsRollingDeploy",),
    # demo_native whose Http check fails while ECS pauses: the stage rolls the deployment back
    # through ECS (ECS Rolling Rollback), which must put both rules and the service back
    "demo_native_failing": ("deploy", "check", "EcsRollingRollback"),
}
# pipelines of services ECS deploys with its own strategy (rules of their own: native_rules)
NATIVE = ("demo_native", "demo_linear", "demo_native_failing")
# the demo pipeline a kill point's measured release runs, when not its own name
RUNS = {
    "demo_provisioned": provisioned_demo.PIPELINE,
    "demo_provisioned_failing": provisioned_demo.PIPELINE,
    "demo_native_failing": "demo_native",
}
PROVISIONED = ("demo_provisioned", "demo_provisioned_failing")
BROKEN_IMAGE = {"image": "*:broken", "pullFailure": "manifest unknown"}
# the pipeline whose tag 1 release comes before the measured one
FIRST = {
    "demo_rolling": "demo_rolling",
    "demo_canary": "demo_rolling",
    "demo_bluegreen": "demo_bluegreen",
    "demo_basic": "demo_basic",
    "demo_trafficshift": "demo_trafficshift",
    "demo_provisioned": "demo_provisioned",
    "demo_provisioned_failing": "demo_provisioned",
    "demo_native": "demo_native",
    "demo_linear": "demo_linear",
    "demo_native_failing": "demo_native",
}
# inputs of the measured release besides the first's: after the first traffic shift the prod rule
# forwards to both target groups, so the stage one is inferred (the one production does not reach)
SECOND: dict[str, dict[str, str]] = {"demo_trafficshift": {"stageTargetGroupArn": ""}}
# a step's status once it has started, when not Running (an approval step waits for its decision)
STARTED = {
    "approve_swap": "ApprovalWaiting",
    "approve_phase": "ApprovalWaiting",
    "approve": "ApprovalWaiting",
}
# a step's status once it has ended, when not Success (the failing release's deploy fails)
ENDED = {
    ("demo_provisioned_failing", "EcsRollingDeploy"): "Failed",
    ("demo_native_failing", "check"): "Failed",
}


@dataclass(frozen=True)
class KillPoint:
    pipeline: str
    step: str
    status: str  # "Running" (or an approval's "ApprovalWaiting"): killed as the step starts; "Success" (or "Failed"): as it ends

    @property
    def id(self) -> str:
        return f"{self.pipeline}: killed when {self.step} is {self.status}"


def kill_points(fast: bool = False) -> list[KillPoint]:
    points = [
        KillPoint(pipeline, step, status)
        for pipeline, steps in PIPELINES.items()
        for step in steps
        for status in (STARTED.get(step, "Running"), ENDED.get((pipeline, step), "Success"))
    ]
    if fast:  # one of each kind: a kill inside a step, one between two steps, one in an approval's wait
        return [
            KillPoint("demo_rolling", "EcsRollingDeploy", "Running"),
            KillPoint("demo_canary", "EcsCanaryDeploy", "Success"),
            KillPoint("demo_bluegreen", "approve_swap", "ApprovalWaiting"),
            KillPoint("demo_basic", "EcsUpgradeContainer_100", "Running"),
            KillPoint("demo_trafficshift", "shift_all", "Running"),
            KillPoint("demo_provisioned", "create_stack", "Running"),
            KillPoint("demo_provisioned_failing", "rollback_stack", "Running"),
            # killed while ECS pauses at the PAUSE hook, waiting for the pipeline's approval
            KillPoint("demo_native", "approve", "ApprovalWaiting"),
            KillPoint("demo_linear", "EcsRollingDeploy", "Running"),
            # killed while ECS pauses; resumed, the check fails and the stage rolls back through ECS
            KillPoint("demo_native_failing", "deploy", "Success"),
        ]
    return points


def _environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _options() -> Any:
    from corral.engine import ExecutorOptions

    return ExecutorOptions(heartbeat=0.2, poll=0.05, lock_poll=0.1, log_flush=0.05, stop_grace=5.0)


def run_kill_point(point: KillPoint) -> tuple[str, float]:
    """(outcome, seconds): "finished", "restored" or "BROKEN: ..."."""
    from corral.config import load_project
    from corral.demo import pipeline_inputs, prepare_sandbox
    from corral.engine import EmbeddedExecutor, create_execution, get_execution, resume
    from corral.sandbox import Sandbox
    from corral.store import Store
    from corral.wiring.cloudformation_steps import set_stack_polling
    from corral.wiring.ecs_steps import set_poll_policy
    from tests.e2e.approvals import approver

    started = time.monotonic()
    saved = {k: os.environ.get(k) for k in _environment("")}
    stop = threading.Event()
    approvers: list[threading.Thread] = []
    with Sandbox(speed=SPEEDS.get(point.pipeline, SPEED)) as sandbox, tempfile.TemporaryDirectory() as tmp:
        if point.pipeline in PROVISIONED:
            sandbox.app.reset()  # moto's CloudWatch Logs (the stack's log group) outlives a sandbox
        os.environ.update(_environment(sandbox.endpoint_url))
        set_poll_policy(FAST_POLLS)
        set_stack_polling(FAST_STACKS)
        url = f"sqlite:///{Path(tmp) / 'corral.db'}"
        store = Store.open(url)
        try:
            root = _project_root(point.pipeline, Path(tmp))
            project = load_project(root)
            prepared = prepare_sandbox(sandbox.endpoint_url)
            first_pipeline = FIRST[point.pipeline]
            record = create_execution(
                project,
                first_pipeline,
                store=store,
                inputs={
                    **pipeline_inputs(prepared, first_pipeline),
                    **_release(first_pipeline, "1"),
                    **_checked(first_pipeline, sandbox),
                },
            )
            approvers.append(approver(store, record.id, stop))
            EmbeddedExecutor(store, project, _options()).run(record.id)
            first = get_execution(record.id, store=store)
            if first.status != "Success":
                return f"BROKEN: the first deployment failed: {first.error}", time.monotonic() - started
            before = _state(sandbox, prepared, point.pipeline)
            if point.pipeline == "demo_provisioned_failing":
                sandbox.admin.set_images(BROKEN_IMAGE)

            runner = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.reliability.kill",
                    "RUN",
                    RUNS.get(point.pipeline, point.pipeline),
                    url,
                    json.dumps(
                        {
                            **pipeline_inputs(prepared, RUNS.get(point.pipeline, point.pipeline)),
                            **_release(point.pipeline, "2"),
                            **SECOND.get(point.pipeline, {}),
                            **_checked(point.pipeline, sandbox),
                        }
                    ),
                    str(root),
                ],
                cwd=Path(__file__).resolve().parents[2],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert runner.stdout is not None
            execution_id = runner.stdout.readline().strip()
            # killed in the approval's own wait: nobody approves before the kill
            killed_waiting = point.status == "ApprovalWaiting"
            if not killed_waiting:
                approvers.append(approver(store, execution_id, stop))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and runner.poll() is None:
                if any(
                    s.identifier == point.step and s.status == point.status for s in store.steps(execution_id)
                ):
                    break
                time.sleep(0.005)
            if runner.poll() is not None:
                early = get_execution(execution_id, store=store)
                return (
                    f"BROKEN: the pipeline ended before the kill point: {early.status} ({early.error})",
                    time.monotonic() - started,
                )
            runner.send_signal(signal.SIGKILL)
            runner.wait()
            if killed_waiting:
                approvers.append(approver(store, execution_id, stop))

            ended = resume(execution_id, store=store, project=project, options=_options())
            after = _state(sandbox, prepared, point.pipeline)
            if ended.status == "Success":
                problems = _unfinished(sandbox, prepared, point.pipeline, after)
                if point.pipeline in PROVISIONED:
                    problems += provisioned_demo.made_again(before["stack"], after["stack"])
                outcome = "finished" if not problems else "BROKEN: finished with " + "; ".join(problems)
            elif after == before:
                outcome = "restored"
            else:
                outcome = f"BROKEN: {ended.status} ({ended.error}) and not restored: {before} -> {after}"
            return outcome, time.monotonic() - started
        finally:
            stop.set()
            for thread in approvers:
                thread.join()
            set_poll_policy(None)
            set_stack_polling(None)
            store.close()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _project_root(pipeline: str, tmp: Path) -> Path:
    if pipeline in PROVISIONED:
        return provisioned_demo.make_project(DEMO, tmp / "project")
    return DEMO


def _release(pipeline: str, tag: str) -> dict[str, str]:
    """The inputs naming a release: the image tag (and the provisioned pipeline's `release`)."""
    if pipeline == "demo_provisioned_failing":
        return {"tag": "broken", "release": tag}
    return {"tag": tag, **({"release": tag} if pipeline == provisioned_demo.PIPELINE else {})}


def _checked(pipeline: str, sandbox: Any) -> dict[str, str]:
    """demo_native's Http step checks `url`: the sandbox's own health page, as `corral sandbox
    --demo` writes it (sandbox_inputs.py)."""
    if pipeline == "demo_native_failing":  # a page the sandbox does not have: 404, the check fails
        return {"url": f"{sandbox.endpoint_url}/_sandbox/no-such-page"}
    return {"url": f"{sandbox.endpoint_url}/_sandbox/health"} if pipeline == "demo_native" else {}


def _state(sandbox: Any, prepared: dict[str, Any], pipeline: str) -> dict[str, Any]:
    """What "restored" compares: the services; for blue green also where both listeners forward;
    for ECS's own strategies the weights of the service's production and test rules and how many
    healthy targets each of its target groups holds."""
    from tests.e2e.state import forward_group, listener_actions, services

    state: dict[str, Any] = {"services": services(sandbox.client("ecs"))}
    if pipeline == "demo_bluegreen":
        actions = listener_actions(
            sandbox.client("elbv2"), prepared["prodListener"], prepared["stageListener"]
        )
        state["routes"] = [forward_group(a) for a in actions]
    if pipeline == "demo_trafficshift":  # the prod rule's weights, exactly
        [actions] = listener_actions(sandbox.client("elbv2"), prepared["prodListener"])
        state["routes"] = [forward_weights(actions)]
    if pipeline in PROVISIONED:
        state["stack"] = provisioned_demo.stack_state(sandbox)
    if pipeline in NATIVE:
        state |= native_rules(sandbox, prepared, pipeline)
    return state


def native_rules(sandbox: Any, prepared: dict[str, Any], pipeline: str) -> dict[str, Any]:
    from tests.e2e.state import healthy_targets

    elb, name = sandbox.client("elbv2"), RUNS.get(pipeline, pipeline).removeprefix("demo_")
    rules = {}
    for role in ("Production", "Test"):
        [rule] = elb.describe_rules(RuleArns=[prepared[f"{name}{role}Rule"]])["Rules"]
        weights = forward_weights(rule["Actions"])
        # as shares of the rule's traffic: prepare_sandbox makes the rules at 1/0, ECS writes 100/0
        total = sum(weights.values()) or 1
        rules[role] = {group: round(100 * w / total, 1) for group, w in weights.items()}
    groups = (prepared[f"{name}BlueTargetGroup"], prepared[f"{name}GreenTargetGroup"])
    return {"rules": rules, "healthy": {g: healthy_targets(elb, g) for g in groups}}


def _unfinished(sandbox: Any, prepared: dict[str, Any], pipeline: str, state: dict[str, Any]) -> list[str]:
    """How a successful execution's end state differs from tag 2 fully released (empty: it does not)."""
    from tests.e2e.state import image_of

    ecs = sandbox.client("ecs")
    live = state["services"]
    images = {
        name: image_of(ecs, service["taskDefinition"]).rsplit("/", 1)[-1] for name, service in live.items()
    }
    if pipeline == "demo_trafficshift":
        return _unshifted(prepared, state, images)
    if pipeline in NATIVE:
        return _natively_released(pipeline, state, images)
    if pipeline in PROVISIONED:  # as rolling, and the stack at release 2
        problems = provisioned_demo.unreleased(state["stack"])
        if set(live) != {"demo-web"} or not images["demo-web"].endswith(":2"):
            problems.append(f"services {images}, not demo-web on tag 2")
        return problems
    if pipeline == "demo_basic":  # tag 2 in the second version with every task, the first at 0
        counts = {name: (images[name], service["desiredCount"]) for name, service in live.items()}
        wanted = {"demo-web__1": ("web:1", 0), "demo-web__2": ("web:2", 2)}
        return [] if counts == wanted else [f"versions {counts}, not {wanted}"]
    if pipeline != "demo_bluegreen":
        if set(live) != {"demo-web"}:
            return [f"services {sorted(live)}"]
        return [] if images["demo-web"].endswith(":2") else [f"demo-web runs {images['demo-web']}, not tag 2"]
    prod, stage = prepared["prodTargetGroupArn"], prepared["stageTargetGroupArn"]
    problems = []
    if state["routes"] != [prod, stage]:
        problems.append(f"the prod and stage listeners forward to {state['routes']}, not [{prod}, {stage}]")
    new = [name for name, image in images.items() if image.endswith(":2")]
    if len(new) != 1:
        return [*problems, f"services running tag 2: {new} (all: {images})"]
    (name,) = new
    released = {"desiredCount": 2, "targetGroups": [prod], "version": "BLUE"}
    if _blue_green(live[name]) != released:
        problems.append(f"{name} (tag 2) has {_blue_green(live[name])}, not {released}")
    for other in sorted(set(live) - {name}):
        old = {"desiredCount": 0, "targetGroups": [stage], "version": "GREEN"}
        if _blue_green(live[other]) != old:
            problems.append(f"{other} ({images[other]}) has {_blue_green(live[other])}, not {old}")
    return problems


def _unshifted(prepared: dict[str, Any], state: dict[str, Any], images: dict[str, str]) -> list[str]:
    """Traffic shift: all of the prod rule's traffic reaches the tag 2 service, tagged BLUE, with 2
    tasks; the old one is GREEN and downsized to 0."""
    live = state["services"]
    new = [name for name, image in images.items() if image.endswith(":2")]
    if len(new) != 1:
        return [f"services running tag 2: {new} (all: {images})"]
    (name,) = new
    [weights] = state["routes"]
    groups = live[name]["targetGroups"]
    problems = []
    if {g for g, w in weights.items() if w} != set(groups):
        problems.append(f"the prod rule forwards to {weights}, not to {name}'s {groups}")
    if _blue_green(live[name])["desiredCount"] != 2 or _blue_green(live[name])["version"] != "BLUE":
        problems.append(f"{name} (tag 2) has {_blue_green(live[name])}")
    for other in sorted(set(live) - {name}):
        if (_blue_green(live[other])["desiredCount"], _blue_green(live[other])["version"]) != (0, "GREEN"):
            problems.append(f"{other} ({images[other]}) has {_blue_green(live[other])}")
    return problems


def _natively_released(pipeline: str, state: dict[str, Any], images: dict[str, str]) -> list[str]:
    """ECS's own strategies: the service runs tag 2 with its 2 tasks; both rules forward all
    traffic to one target group, which holds the 2 healthy tasks; the other holds none."""
    name = "demo-" + RUNS.get(pipeline, pipeline).removeprefix("demo_")
    problems = []
    if not images.get(name, "").endswith(":2") or state["services"][name]["desiredCount"] != 2:
        problems.append(
            f"{name} runs {images.get(name)}, {state['services'].get(name, {}).get('desiredCount')} tasks"
        )
    serving = {g for weights in state["rules"].values() for g, w in weights.items() if w}
    if len(serving) != 1 or any(sorted(w.values()) != [0.0, 100.0] for w in state["rules"].values()):
        problems.append(f"the rules forward {state['rules']}, not all to one target group")
    wanted = {g: (2 if g in serving else 0) for g in state["healthy"]}
    if state["healthy"] != wanted:
        problems.append(f"healthy targets {state['healthy']}, not {wanted}")
    return problems


def _blue_green(service: dict[str, Any]) -> dict[str, Any]:
    return {
        "desiredCount": service["desiredCount"],
        "targetGroups": service["targetGroups"],
        "version": service["tags"].get("BG_VERSION"),
    }


def _run(pipeline: str, url: str, inputs: str, root: str) -> None:
    """The process that gets killed: create the execution, print its id, run it."""
    from corral.config import load_project
    from corral.engine import EmbeddedExecutor, create_execution
    from corral.store import Store
    from corral.wiring.cloudformation_steps import set_stack_polling
    from corral.wiring.ecs_steps import set_poll_policy

    set_poll_policy(FAST_POLLS)
    set_stack_polling(FAST_STACKS)
    project = load_project(Path(root))
    store = Store.open(url)
    record = create_execution(project, pipeline, store=store, inputs=json.loads(inputs))
    print(record.id, flush=True)
    EmbeddedExecutor(store, project, _options()).run(record.id)


if __name__ == "__main__":
    if sys.argv[1] == "RUN":
        _run(*sys.argv[2:6])
