"""ECS's own traffic-shifting strategies: BLUE_GREEN, LINEAR and CANARY (deploymentController ECS).

One `NativeRun` drives one service deployment through ECS's lifecycle stages, in the order of
the ECS Developer Guide ("Amazon ECS blue/green service deployments workflow", "Deployment
lifecycle hooks"; ServiceDeployment.lifecycleStage in the API Reference):

PRE_SCALE_UP (hooks) -> SCALE_UP (the green revision's tasks start, at the full desired count, in
the alternate target group; blue keeps all production traffic) -> POST_SCALE_UP (hooks) ->
TEST_TRAFFIC_SHIFT (the test listener rule forwards to green; hooks) -> POST_TEST_TRAFFIC_SHIFT
(hooks) -> PRODUCTION_TRAFFIC_SHIFT (PRE_PRODUCTION_TRAFFIC_SHIFT hooks, then the production rule's
weights move: all at once for BLUE_GREEN, `stepPercent` at a time with `stepBakeTimeInMinutes`
between steps for LINEAR, `canaryPercent` then the rest after `canaryBakeTimeInMinutes` for CANARY;
then PRODUCTION_TRAFFIC_SHIFT hooks) -> POST_PRODUCTION_TRAFFIC_SHIFT (hooks) -> BAKE_TIME
(`bakeTimeInMinutes`, blue still running) -> CLEAN_UP (blue's tasks stop; the target groups swap
roles, so the next green goes to the group blue used).

A rollback (a hook FAILED or timed out with ROLLBACK, ContinueServiceDeployment ROLLBACK,
StopServiceDeployment ROLLBACK, the circuit breaker, an alarm in ALARM) puts both rules back on
blue and stops green: blue never stopped, so the service is exactly as it was.

Everything happens on timers at sandbox moments; a run is a plain object the state file pickles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events, events_bridge, hooks, launch
from . import service_deployments as sds
from .deployments import ACTIVE, FAILED, PRIMARY
from .exceptions import InvalidParameterException
from .services import ACTIVE as SERVICE_ACTIVE
from .tasks import SERVICE_SCHEDULER_INITIATED

if TYPE_CHECKING:
    from .deployments import Deployment
    from .service_deployments import ServiceDeployment
    from .services import Service

BLUE_GREEN = "BLUE_GREEN"
LINEAR = "LINEAR"
CANARY = "CANARY"
LINEAR_DEFAULTS = {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}
CANARY_DEFAULTS = {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}
ALARM_CHECK_SECONDS = sds.ALARM_CHECK_SECONDS  # looked at this often while a wait lasts

PRE_PRODUCTION_TRAFFIC_SHIFT = "PRE_PRODUCTION_TRAFFIC_SHIFT"


@dataclass
class TrafficPair:
    """One load balancer of the service: blue's and green's target groups and the two rules."""

    blue_group: str
    green_group: str
    production_rule: str
    test_rule: str | None
    key: str  # the service's own targetGroupArn, which names the pair


@dataclass
class Step:
    stage: str
    kind: str  # hooks, scale, test, weight, wait, clean
    hooks: list[dict[str, Any]] = field(default_factory=list)  # all of a stage's hooks: run in parallel
    hook_stage: str | None = None
    value: float = 0.0


def production_steps(strategy: str, config: dict[str, Any]) -> list[tuple[float, float]]:
    """(green percent, wait seconds after it) for the production shift of a strategy."""
    if strategy == LINEAR:
        linear = {**LINEAR_DEFAULTS, **(config.get("linearConfiguration") or {})}
        step, bake = float(linear["stepPercent"]), float(linear["stepBakeTimeInMinutes"]) * 60
        out: list[tuple[float, float]] = []
        percent = 0.0
        while percent < 100.0:
            percent = min(100.0, percent + step)
            out.append((percent, bake if percent < 100.0 else 0.0))
        return out
    if strategy == CANARY:
        canary = {**CANARY_DEFAULTS, **(config.get("canaryConfiguration") or {})}
        percent = min(100.0, float(canary["canaryPercent"]))
        if percent >= 100.0:
            return [(100.0, 0.0)]
        return [(percent, float(canary["canaryBakeTimeInMinutes"]) * 60), (100.0, 0.0)]
    return [(100.0, 0.0)]


def rule_weights(green_percent: float) -> tuple[int, int]:
    """(blue, green) listener rule weights (integers 0-999) for a share of traffic on green."""
    if float(green_percent).is_integer():
        green = int(green_percent)
        return 100 - green, green
    green = round(green_percent * 10)  # 0.1 % steps: per mille
    return 1000 - green, green


def plan(strategy: str, config: dict[str, Any], has_test_rule: bool) -> list[Step]:
    configured = config.get("lifecycleHooks") or []

    def hook_steps(stage: str, hook_stage: str) -> list[Step]:
        """The hooks of one stage run in parallel; the deployment goes on once all have succeeded
        ("Multiple hooks at the same stage", pause-lifecycle-hooks in the ECS Developer Guide)."""
        chosen = [h for h in configured if hook_stage in (h.get("lifecycleStages") or [])]
        return [Step(stage, "hooks", hooks=chosen, hook_stage=hook_stage)] if chosen else []

    steps: list[Step] = [*hook_steps(sds.PRE_SCALE_UP, sds.PRE_SCALE_UP), Step(sds.SCALE_UP, "scale")]
    steps += hook_steps(sds.POST_SCALE_UP, sds.POST_SCALE_UP)
    steps.append(Step(sds.TEST_TRAFFIC_SHIFT, "test", value=100.0 if has_test_rule else 0.0))
    steps += hook_steps(sds.TEST_TRAFFIC_SHIFT, sds.TEST_TRAFFIC_SHIFT)
    steps += hook_steps(sds.POST_TEST_TRAFFIC_SHIFT, sds.POST_TEST_TRAFFIC_SHIFT)
    for percent, wait in production_steps(strategy, config):
        # LINEAR and CANARY run the PRE_PRODUCTION_TRAFFIC_SHIFT hooks before each step, each time
        # with a new hookId ("Pause hooks with linear and canary deployments")
        steps += hook_steps(sds.PRODUCTION_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT)
        steps.append(Step(sds.PRODUCTION_TRAFFIC_SHIFT, "weight", value=percent))
        if wait > 0:
            steps.append(Step(sds.PRODUCTION_TRAFFIC_SHIFT, "wait", value=wait))
    steps += hook_steps(sds.PRODUCTION_TRAFFIC_SHIFT, sds.PRODUCTION_TRAFFIC_SHIFT)
    steps += hook_steps(sds.POST_PRODUCTION_TRAFFIC_SHIFT, sds.POST_PRODUCTION_TRAFFIC_SHIFT)
    bake = float(config.get("bakeTimeInMinutes") or 0) * 60
    steps.append(Step(sds.BAKE_TIME, "wait", value=bake))
    steps.append(Step(sds.CLEAN_UP, "clean"))
    return steps


@dataclass(eq=False)
class NativeRun:
    record: ServiceDeployment = field(repr=False)
    strategy: str
    pairs: list[TrafficPair]
    blue: list[Deployment] = field(repr=False)
    steps: list[Step] = field(default_factory=list)
    index: int = 0
    scaling: bool = False
    cleaning: bool = False
    rolling_back: bool = False
    finished: bool = False
    production: float = 0.0  # green's share of production traffic, percent
    test: float = 0.0  # green's share of test traffic
    generation: int = 0  # bumped when a run moves on: older timers find it changed and do nothing
    wait_until: float = 0.0
    current_hooks: list[hooks.HookRun] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------------ helpers

    @property
    def service(self) -> Service:
        return self.record.service

    @property
    def green(self) -> Deployment:
        return self.record.deployment

    def now(self) -> float:
        return self.service.now()

    def weights(self) -> tuple[float, float]:
        return self.production, self.test

    def _later(self, at: float, method: str, *args: Any) -> None:
        self.service.backend.world.timers.call_at(at, getattr(self, method), self.generation, *args)

    def _stage(self, stage: str) -> None:
        if self.record.lifecycle_stage != stage:
            self.record.lifecycle_stage = stage
            self.record.touch(self.now())

    # ------------------------------------------------------------------ moving on

    def start(self) -> None:
        self.record.lifecycle_stage = sds.PRE_SCALE_UP
        self._later(self.now(), "_resume")

    def _resume(self, generation: int) -> None:
        if generation == self.generation:
            self.proceed()

    def _gone(self) -> bool:
        """The service was deleted: the run ends where it is, no hook is called any more."""
        if self.service.status != SERVICE_ACTIVE and not self.finished:
            self.abandon()
        return self.finished

    def proceed(self) -> None:
        """Carry out steps until one has to wait (tasks, a hook, a bake time, blue stopping)."""
        while not self._gone() and not self.rolling_back and self.index < len(self.steps):
            if self._alarm_rollback():
                return
            step = self.steps[self.index]
            self._stage(step.stage)
            if step.kind == "hooks":
                self._start_hooks(step)
                return
            if step.kind == "scale":
                self.scaling = True
                self.service.request_evaluation()
                return
            if step.kind == "test":
                self._shift_test(step.value)
            elif step.kind == "weight":
                self._shift_production(step.value)
            elif step.kind == "wait" and step.value > 0:
                self.wait_until = self.now() + step.value
                self._later(min(self.wait_until, self.now() + ALARM_CHECK_SECONDS), "_waited")
                return
            elif step.kind == "clean":
                self.cleaning = True
                self.service.request_evaluation()
                return
            self.index += 1

    def _next(self) -> None:
        self.generation += 1
        self.index += 1
        self.current_hooks = []
        self.proceed()

    def _waited(self, generation: int) -> None:
        if generation != self.generation or self.rolling_back or self._gone():
            return
        if self._alarm_rollback():
            return
        now = self.now()
        if now + 1e-6 < self.wait_until:
            self._later(min(self.wait_until, now + ALARM_CHECK_SECONDS), "_waited")
            return
        self._next()

    # ------------------------------------------------------------------ the scheduler's part

    def reconcile(self) -> None:
        """Called by the scheduler instead of the rolling rules while this run is not finished."""
        service, green = self.service, self.green
        now = self.now()
        if self.rolling_back:
            live = green.live_tasks()
            if live:
                service.stop_tasks(live, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True)
            green.desired_count = 0
            if not green.unstopped_tasks():
                self.finished = True
                self.record.set_status(sds.ROLLBACK_SUCCESSFUL, now)
            return
        if green.rollout_state == FAILED:
            return
        for old in service.deployments[1:]:
            old.desired_count = len(old.live_tasks())
        if not self.scaling:
            return
        from . import scheduler

        green.desired_count = service.desired_count
        live = green.live_tasks()
        if len(live) > service.desired_count:
            ranked = sorted(live, key=lambda t: (t.counts_healthy(now), -t.created_at))
            extra = ranked[: len(live) - service.desired_count]
            service.stop_tasks(extra, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True)
        wanted = service.desired_count - len(green.live_tasks())
        if wanted > 0 and scheduler.can_start(service):
            launch.start_service_tasks(service, green, wanted)
        live = green.live_tasks()
        step = self.steps[self.index] if self.index < len(self.steps) else None
        ready = len(live) == service.desired_count and all(t.counts_healthy(now) for t in live)
        if step is not None and step.kind == "scale" and ready:
            self.index += 1
            self._later(now, "_resume")
        if self.cleaning:
            blue_tasks = [t for d in service.deployments[1:] for t in d.live_tasks()]
            if blue_tasks:
                service.stop_tasks(
                    blue_tasks, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True
                )
            for deployment in service.deployments[1:]:
                deployment.desired_count = 0
            if not any(d.unstopped_tasks() for d in service.deployments[1:]):
                self._cleaned()

    def _cleaned(self) -> None:
        self.finished = True
        self.generation += 1
        for pair in self.pairs:
            self.service.production_groups[pair.key] = pair.green_group
        self.record.target.resolved_load_balancers = [
            {"targetGroupArn": p.green_group, "productionListenerRule": p.production_rule} for p in self.pairs
        ]
        # the scheduler completes the ecs-svc deployment and reports the steady state
        self.service.request_evaluation()

    # ------------------------------------------------------------------ traffic

    def _shift_test(self, percent: float) -> None:
        self.test = percent
        for pair in self.pairs:
            if pair.test_rule:
                _set_weights(self.service, pair.test_rule, pair, percent)

    def _shift_production(self, percent: float) -> None:
        self.production = percent
        for pair in self.pairs:
            if pair.production_rule:
                _set_weights(self.service, pair.production_rule, pair, percent)

    # ------------------------------------------------------------------ hooks

    def _start_hooks(self, step: Step) -> None:
        assert step.hook_stage is not None
        self.generation += 1
        now = self.now()
        self.current_hooks = [hooks.HookRun.from_config(step.hook_stage, h, now) for h in step.hooks]
        self.record.hooks.extend(self.current_hooks)
        self.record.touch(now)
        for run in self.current_hooks:
            self._hook_event(run)
            if run.expires_at is not None:
                self._later(run.expires_at, "_hook_timed_out", run.hook_id)
            if run.target_type != hooks.PAUSE:
                self._later(now, "_invoke_hook", run.hook_id)

    def _hook(self, generation: int, hook_id: str) -> hooks.HookRun | None:
        """The hook of the step now running, while nothing has moved the run on."""
        if generation != self.generation or self.rolling_back or self._gone():
            return None
        return next((h for h in self.current_hooks if h.hook_id == hook_id), None)

    def _hook_ended(self, run: hooks.HookRun, status: str, *, go_on: bool, reason: str = "") -> None:
        run.status = status
        self.record.touch(self.now())
        self._hook_event(run)
        if not go_on:
            self.roll_back(reason)
        elif all(h.passed for h in self.current_hooks):
            self._next()

    def _hook_event(self, run: hooks.HookRun) -> None:
        events_bridge.hook_state_change(self.record, run, self.now())

    def _payload(self, run: hooks.HookRun) -> dict[str, Any]:
        """ECS's hook event: the deployment's state in `executionDetails` (service, target revision,
        test and production weights per revision), the hook's run and stage, and its hookDetails."""
        blue = self.record.sources[0].arn if self.record.sources else None
        target = self.record.target.arn

        def split(green_share: float) -> dict[str, float]:
            out = {target: green_share}
            if blue is not None:
                out[blue] = 100.0 - green_share
            return out

        payload: dict[str, Any] = {
            "executionDetails": {
                "serviceArn": self.service.arn,
                "targetServiceRevisionArn": target,
                "testTrafficWeights": split(self.test),
                "productionTrafficWeights": split(self.production),
            },
            "executionId": run.hook_id,
            "lifecycleStage": run.stage,
            "resourceArn": self.record.arn,
        }
        details = run.answer_details if run.answer_details is not None else run.hook_details
        if details is not None:
            payload["hookDetails"] = details
        return payload

    def _invoke_hook(self, generation: int, hook_id: str) -> None:
        run = self._hook(generation, hook_id)
        if run is None or run.status != hooks.IN_PROGRESS:
            return
        backend = self.service.backend
        answer = hooks.invoke_lambda(
            backend.world, backend.account_id, backend.region_name, run.target_arn or "", self._payload(run)
        )
        # the world lock was released while the function ran: the deployment may have moved on
        if self._hook(generation, hook_id) is not run or run.status != hooks.IN_PROGRESS:
            return
        name = run.target_arn
        if isinstance(answer, Exception):
            self._hook_ended(run, hooks.FAILED, go_on=False, reason=f"Lifecycle hook {name} failed: {answer}")
            return
        status, delay, details = hooks.read_answer(answer)
        if status is None:
            reason = f"Lifecycle hook {name} did not return a valid hookStatus."
            self._hook_ended(run, hooks.FAILED, go_on=False, reason=reason)
        elif status == hooks.SUCCEEDED:
            self._hook_ended(run, hooks.SUCCEEDED, go_on=True)
        elif status == hooks.FAILED:
            reason = f"Lifecycle hook {name} returned hookStatus FAILED."
            self._hook_ended(run, hooks.FAILED, go_on=False, reason=reason)
        else:
            if details is not None:
                run.answer_details = details
            self._later(self.now() + delay, "_invoke_hook", run.hook_id)

    def continue_hook(self, hook_id: str, action: str) -> None:
        """ContinueServiceDeployment on a PAUSE hook now awaiting action."""
        run = self._hook(self.generation, hook_id)
        if run is None or run.status != hooks.AWAITING_ACTION:
            raise InvalidParameterException(
                f"The lifecycle hook {hook_id} is not awaiting action in this service deployment."
            )
        if action == hooks.ROLLBACK:
            reason = "Service deployment rolled back because of a ContinueServiceDeployment request."
            self._hook_ended(run, hooks.FAILED, go_on=False, reason=reason)
        else:
            self._hook_ended(run, hooks.SUCCEEDED, go_on=True)

    def _hook_timed_out(self, generation: int, hook_id: str) -> None:
        run = self._hook(generation, hook_id)
        if run is None or run.status not in (hooks.AWAITING_ACTION, hooks.IN_PROGRESS):
            return
        go_on = run.timeout_action == hooks.CONTINUE
        self._hook_ended(run, hooks.TIMED_OUT, go_on=go_on, reason=f"The lifecycle hook {hook_id} timed out.")

    # ------------------------------------------------------------------ alarms

    def _alarm_rollback(self) -> bool:
        triggered = self.record.alarms_in_alarm()
        if not triggered:
            return False
        self.record.triggered_alarms = triggered
        if not (self.record.configuration.get("alarms") or {}).get("rollback"):
            return False
        self.roll_back(sds.alarm_reason(triggered))
        return True

    # ------------------------------------------------------------------ ending

    def roll_back(self, reason: str) -> None:
        """Rules back to blue, green stopped; ROLLBACK_SUCCESSFUL once green's tasks have stopped."""
        if self.rolling_back or self.finished:
            return
        now = self.now()
        service = self.service
        self.rolling_back = True
        self.generation += 1
        blue_revision = self.record.sources[0].arn if self.record.sources else self.record.target.arn
        self.record.rollback = {"reason": reason, "startedAt": now, "serviceRevisionArn": blue_revision}
        self.record.set_status(sds.ROLLBACK_IN_PROGRESS, now, reason)
        self._shift_production(0.0)
        self._shift_test(0.0)
        green = self.green
        green.rollout_state = FAILED
        green.rollout_state_reason = reason
        green.updated_at = now
        # green's rolloutState turned FAILED: reported as the circuit breaker's failures are
        events_bridge.deployment_state_change(service, green, events_bridge.DEPLOYMENT_FAILED, now)
        blue = next((d for d in self.blue if d in service.deployments), None)
        if blue is not None:
            service.deployments.remove(blue)
            service.deployments.insert(0, blue)
            blue.status = PRIMARY
            blue.updated_at = now
            green.status = ACTIVE
            service.task_definition = blue.task_definition
            service.add_event(events.rolling_back(service.name, blue.id), at=now)
        service.request_evaluation()

    def abandon(self) -> None:
        """A newer deployment or StopServiceDeployment ends this run where it is."""
        self.finished = True
        self.generation += 1


def _stop_reason(service: Service) -> str:
    return f"Scaling activity initiated by (deployment {service.primary.id})"


def _set_weights(service: Service, rule_arn: str, pair: TrafficPair, green_percent: float) -> None:
    blue_weight, green_weight = rule_weights(green_percent)
    service.backend.region.elbv2.set_forward_weights(
        rule_arn, {pair.blue_group: blue_weight, pair.green_group: green_weight}
    )
