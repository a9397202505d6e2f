"""The ECS step types in pipelines: each maps a Harness step `spec` onto its step's options.

    register_ecs_steps()       # the implementations themselves (corral.wiring registers them
                               # lazily from ecs_step_types.py, with their spec models)

For every step, the adapter reads the stage's service as the stage rendered it when it started
(journaled with the stage: `rendered` of the target, wiring/stage_targets.py), fills in its secrets
from the run, builds `Clients` from the
infrastructure's AWS connector (its endpoint, else `AWS_ENDPOINT_URL`; its keys, else the
default credential chain; its assume-role), and gives the step a `StepContext` whose deadline,
abort and checkpoint are the run's. Outputs are what `<+execution.steps.ID.output.NAME>` reads;
the rollback data is the step's checkpoint.

- Re-run after a crash: the rollback data the first attempt journaled (the state *before* the
  deployment) is kept over what the re-run captures (which would be the half-deployed state).
- Rollback steps undo the latest step of the stage they belong to (`EcsRollingRollback` the
  latest `EcsRollingDeploy`, ...), from its journaled data alone; when that step never ran they
  log it and succeed without a change.
- Blue Green: Swap Target Groups and Traffic Shift get the data of the Blue Green step before
  them (Create Service, or an earlier Traffic Shift) as `setup`; Rollback the last one's.
  A Traffic Shift's spec is Harness's `ecsTrafficShiftWrapper` (Inherit: the prod rule of Create
  Service; Standalone: a rule of its own) or Corral's earlier fields (config/traffic_shift_spec.py);
  StandAloneTrafficShiftRollback restores the rules the stage's Standalone shifts changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from corral.aws.clients import AwsSettings, Clients
from corral.aws.poller import PollPolicy
from corral.config.connections import aws_settings
from corral.config.ecs_step_specs import FIELDS as ECS_SPEC_FIELDS
from corral.config.ecs_step_specs import ecs_step_spec_problems
from corral.config.entities.connector import AwsConnector
from corral.config.secrets import referenced_ids
from corral.config.traffic_shift_spec import STANDALONE, read_traffic_shift, traffic_shift_problems
from corral.ecs import basic, bluegreen, canary, rolling, run_task, scale
from corral.ecs.context import OWN_DEPLOYMENTS, OwnDeployments, StepContext
from corral.ecs.native import steering
from corral.ecs.native.follow import deployment_outputs
from corral.ecs.native.judge import SUCCESSFUL
from corral.ecs.target import EcsTarget
from corral.engine.literal_inputs import reveal
from corral.engine.steps import SUCCESS, PriorStep, StepOutcome, StepRun, register
from corral.errors import ConfigError, CorralError, DeploymentError, ExpressionError, Problem
from corral.manifests.service_rendering import RenderedService, with_run_values, with_secrets

from .ecs_step_types import ECS_SPECS, wait_until_problem

EXECUTION = "execution"
ALWAYS_ALLOWED = frozenset({"delegateSelectors", "commandOptions"})

Deploy = Callable[[StepContext, EcsTarget, Any], StepOutcome]
Rollback = Callable[[StepContext, EcsTarget, dict[str, Any]], StepOutcome]

_poll_policy: PollPolicy | None = None


def set_poll_policy(policy: PollPolicy | None) -> None:
    """How often the shared pollers describe services, tasks and service deployments (tests and
    demos shorten it)."""
    global _poll_policy
    _poll_policy = policy


# ---------------------------------------------------------------- spec fields


class Spec:
    """A step's `spec`, read field by field; unknown fields and wrong types are ConfigErrors
    naming the step and the field."""

    def __init__(self, run: StepRun, known: set[str]) -> None:
        self.run = run
        self.data = dict(run.spec or {})
        unknown = sorted(set(self.data) - known - ALWAYS_ALLOWED)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                [
                    Problem(
                        self.where,
                        f"spec.{name}",
                        f"unknown field of a {run.type} step (its fields: {allowed})",
                    )
                    for name in unknown
                ]
            )

    @property
    def where(self) -> str:
        return f"step {self.run.identifier} ({self.run.type})"

    def problem(self, name: str, message: str) -> ConfigError:
        return ConfigError([Problem(self.where, f"spec.{name}", message)])

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.problem(name, f"expected true or false, got {value!r}")

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise self.problem(name, f"expected a whole number, got {value!r}")
        try:
            return int(str(value))
        except ValueError:
            raise self.problem(name, f"expected a whole number, got {value!r}") from None

    def text(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.problem(name, f"expected text, got {value!r}")
        return str(value)

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise self.problem(name, "is required")
        return value


# ---------------------------------------------------------------- the stage's target and clients


def stage_target(run: StepRun) -> tuple[EcsTarget, Clients]:
    """The rendered service of the run's stage, and clients for its infrastructure's connector."""
    rendered = _render(run)
    for note in rendered.notes:  # a pasted describe output: what was left out
        run.log.info(f"info: {note}")
    for warning in rendered.warnings:  # unknown manifest fields: not sent to AWS
        run.log.warn(f"warning: {warning}")
    clients = Clients.shared(_settings(run, rendered))
    if _poll_policy is not None:
        from corral.aws.poller import ServiceDeploymentPoller, ServicePoller, TaskPoller

        for poller in (ServicePoller, TaskPoller, ServiceDeploymentPoller):
            poller.for_cluster(clients, rendered.cluster, policy=_poll_policy)
    return EcsTarget.from_rendered(rendered), clients


def _render(run: StepRun) -> RenderedService:
    """The stage's rendering from the journal, with the run's secrets in their places."""
    target = run.target
    if target is None or target.service is None or run.project is None:
        raise CorralError(
            f"step {run.identifier} ({run.type}) runs only in a Deployment stage with a service "
            "and an infrastructure"
        )
    if target.rendered is None:  # journaled before stages kept their rendering
        raise CorralError(
            f"step {run.identifier} ({run.type}): the stage {run.stage} was prepared by an older "
            "Corral that did not journal the rendered service; start a new execution"
        )
    rendered = RenderedService.from_journal(target.rendered)
    if run.secrets is None:
        from corral.config.secrets import SecretResolver

        secrets = SecretResolver(run.project)
    else:  # the secrets the stage's manifests name were in the run's scope when it rendered them
        secrets = run.secrets
        secrets.allow(set().union(*(referenced_ids(m.request_text()) for m in rendered.manifests())))
    try:
        # the run's values first: a value typed at run time stays inert (literal_inputs) through
        # the secrets pass and is revealed, as typed, once the requests are final
        rendered = with_secrets(with_run_values(rendered, run.values), secrets)
    except ExpressionError as error:
        raise CorralError(f"the stage's manifests: {error}") from None
    for manifest in rendered.manifests():
        manifest.request = reveal(manifest.request)
    return rendered


def _settings(run: StepRun, rendered: RenderedService) -> AwsSettings:
    assert run.project is not None
    connector = run.project.connector(rendered.connector_ref)
    if not isinstance(connector, AwsConnector):
        raise CorralError(
            f"infrastructure {rendered.infrastructure}: connector {rendered.connector_ref} is not an "
            "AWS connector"
        )
    if run.secrets is None:
        from corral.config.secrets import SecretResolver

        resolved = aws_settings(connector, SecretResolver(run.project), region=rendered.region)
    else:
        resolved = aws_settings(connector, run.secrets, region=rendered.region)
    return resolved.for_clients()


def step_context(run: StepRun, clients: Clients, *, keep_first: bool = False) -> StepContext:
    """The run's log, deadline, abort, checkpoint and --no-wait, and the ECS deployments this
    execution started (from this step's earlier attempt and the stage's earlier steps), so a
    re-run after a crash, or a rollback, never waits for a deployment of its own.
    `keep_first`: on a re-run, the journaled rollback data of the first attempt wins over what
    this attempt captures."""
    own = OwnDeployments.merged(
        *((p.checkpoint or {}).get(OWN_DEPLOYMENTS) for p in run.prior_steps),
        (run.previous_checkpoint or {}).get(OWN_DEPLOYMENTS),
    )
    ctx = StepContext(
        clients=clients, log=run.log, deadline=run.deadline, abort=run.abort, no_wait=run.no_wait, own=own
    )

    def checkpoint(data: dict[str, Any]) -> None:
        marked = {**data, OWN_DEPLOYMENTS: ctx.own.to_dict()} if ctx.own.started or ctx.own.starting else data
        run.checkpoint(_kept(run, marked) if keep_first else marked)

    ctx.checkpoint = checkpoint
    return ctx


def _kept(run: StepRun, data: dict[str, Any]) -> dict[str, Any]:
    previous = run.previous_checkpoint
    if not previous:
        return data
    kept = {key: value for key, value in previous.items() if value is not None}
    kept.pop("deployedDesiredCount", None)  # what this attempt set, not what was there before
    if data.get("serviceDeploymentArn"):  # the service deployment this attempt follows wins
        kept.pop("serviceDeploymentArn", None)
    own = OwnDeployments.merged(previous.get(OWN_DEPLOYMENTS), data.get(OWN_DEPLOYMENTS))
    merged = {**data, **kept}
    if own.started or own.starting:  # both attempts' deployments are this execution's
        merged[OWN_DEPLOYMENTS] = own.to_dict()
    return merged


def outcome(run: StepRun, result: StepOutcome, *, keep_first: bool = False) -> StepOutcome:
    data = _kept(run, result.checkpoint or {}) if keep_first else result.checkpoint
    return StepOutcome(SUCCESS, dict(result.outputs), checkpoint=data or None)


def _deploy(run: StepRun, step: Deploy, options: Any, *, keep_first: bool = False) -> StepOutcome:
    target, clients = stage_target(run)
    ctx = step_context(run, clients, keep_first=keep_first)
    return outcome(run, step(ctx, target, options), keep_first=keep_first)


# ---------------------------------------------------------------- prior steps


def latest(run: StepRun, *types: str) -> PriorStep | None:
    """The latest step of the stage's execution phase, of one of `types`, that journaled data."""
    for step in reversed(run.prior_steps):
        if step.phase == EXECUTION and step.type in types and step.checkpoint:
            return step
    return None


def _skipped(run: StepRun, what: str) -> StepOutcome:
    run.log.section("Rollback")
    run.log.info(f"No {what} ran in this stage: nothing to roll back")
    return StepOutcome(SUCCESS, {"rollbackSkipped": True})


def _undo(run: StepRun, deploy_types: tuple[str, ...], what: str, step: Rollback) -> StepOutcome:
    prior = latest(run, *deploy_types)
    if prior is None:
        return _skipped(run, what)
    target, clients = stage_target(run)
    result = step(step_context(run, clients), target, dict(prior.checkpoint or {}))
    return StepOutcome(SUCCESS, {"rollbackSkipped": False, **result.outputs})


# ---------------------------------------------------------------- the step types


def run_rolling_deploy(run: StepRun) -> StepOutcome:
    spec = Spec(
        run, {"sameAsAlreadyRunningInstances", "forceNewDeployment", "skipApplicationScaling", "waitUntil"}
    )
    wait_until = spec.text("waitUntil", SUCCESSFUL) or SUCCESSFUL
    problem = wait_until_problem(wait_until)
    if problem is not None:  # rendered now: an expression at validate time is checked here
        raise spec.problem("waitUntil", problem)
    options = rolling.RollingDeployOptions(
        same_as_already_running_instances=spec.boolean("sameAsAlreadyRunningInstances"),
        force_new_deployment=spec.boolean("forceNewDeployment"),
        skip_application_scaling=spec.boolean("skipApplicationScaling"),
        wait_until=wait_until,
    )
    return _deploy(run, rolling.rolling_deploy, options, keep_first=True)


def run_rolling_rollback(run: StepRun) -> StepOutcome:
    """The stage's ECS Scale steps first; then the rolling rollback (an ECS-native deployment the
    stage's Rolling Deploy left unfinished is rolled back through ECS first: ecs/rolling.py)."""
    Spec(run, set())
    _undo_scales(run)
    return _undo(run, ("EcsRollingDeploy",), "ECS Rolling Deploy", rolling.rolling_rollback)


def run_canary_deploy(run: StepRun) -> StepOutcome:
    spec = Spec(run, {"instances", "desiredCount"})
    count = spec.integer("instances", spec.integer("desiredCount", 1))
    return _deploy(run, canary.canary_deploy, canary.CanaryDeployOptions(desired_count=count or 1))


def run_canary_delete(run: StepRun) -> StepOutcome:
    """In the execution phase: delete the canary. As a rollback step: undo Canary Deploy."""
    Spec(run, set())
    if run.phase != EXECUTION:
        return _undo(run, ("EcsCanaryDeploy",), "ECS Canary Deploy", canary.canary_rollback)
    return _deploy(run, canary.canary_delete, canary.CanaryDeleteOptions())


def run_blue_green_create_service(run: StepRun) -> StepOutcome:
    spec = Spec(
        run,
        {
            "loadBalancer",
            "prodListener",
            "prodListenerRuleArn",
            "stageListener",
            "stageListenerRuleArn",
            "sameAsAlreadyRunningInstances",
            "enableAutoScalingInSwapStep",
            "updateGreenService",
            "isTrafficShift",
            "stageTargetGroupArn",
        },
    )
    options = bluegreen.BlueGreenCreateServiceOptions(
        load_balancer=spec.required("loadBalancer"),
        prod_listener=spec.required("prodListener"),
        prod_listener_rule_arn=spec.text("prodListenerRuleArn"),
        stage_listener=spec.text("stageListener"),
        stage_listener_rule_arn=spec.text("stageListenerRuleArn"),
        same_as_already_running_instances=spec.boolean("sameAsAlreadyRunningInstances"),
        enable_auto_scaling_in_swap_step=spec.boolean("enableAutoScalingInSwapStep"),
        update_green_service=spec.boolean("updateGreenService"),
        is_traffic_shift=spec.boolean("isTrafficShift"),
        stage_target_group_arn=spec.text("stageTargetGroupArn"),
    )
    if not options.is_traffic_shift and not options.stage_listener:
        raise spec.problem("stageListener", "is required (unless isTrafficShift is true)")
    return _deploy(run, bluegreen.blue_green_create_service, options, keep_first=True)


def _setup(run: StepRun, *types: str) -> dict[str, Any]:
    prior = latest(run, *types)
    return dict(prior.checkpoint or {}) if prior is not None and prior.status == SUCCESS else {}


def run_swap_target_groups(run: StepRun) -> StepOutcome:
    spec = Spec(run, {"doNotDownsizeOldService", "downsizeOldServiceDelayInSecs"})
    options = bluegreen.SwapTargetGroupsOptions(
        do_not_downsize_old_service=spec.boolean("doNotDownsizeOldService"),
        downsize_old_service_delay_in_secs=spec.integer("downsizeOldServiceDelayInSecs", 0) or 0,
        setup=_setup(run, "EcsBlueGreenCreateService"),
    )
    return _deploy(run, bluegreen.blue_green_swap_target_groups, options)


def run_blue_green_rollback(run: StepRun) -> StepOutcome:
    Spec(run, set())
    types = ("EcsBlueGreenCreateService", "EcsBlueGreenSwapTargetGroups", "EcsBlueGreenTrafficShift")
    return _undo(run, types, "ECS Blue Green Create Service", bluegreen.blue_green_rollback)


def run_traffic_shift(run: StepRun) -> StepOutcome:
    """Harness's `ecsTrafficShiftWrapper` (Inherit or Standalone), or Corral's earlier fields."""
    found = traffic_shift_problems(run.spec, rendered=True)
    where = f"step {run.identifier} ({run.type})"
    if found:
        raise ConfigError([Problem(where, path, message) for path, message in found])
    spec = Spec(run, set(run.spec or {}))
    shift = read_traffic_shift(run.spec)
    setup = _setup(run, "EcsBlueGreenCreateService", "EcsBlueGreenTrafficShift")
    if shift.mode == STANDALONE:
        standalone = bluegreen.StandaloneShiftOptions(
            load_balancer=shift.load_balancer,
            listener=shift.listener,
            listener_rule_arn=shift.listener_rule_arn,
            forward_config=shift.forward_config,
            setup=setup,
        )
        return _deploy(run, bluegreen.standalone_traffic_shift, standalone)
    options = bluegreen.TrafficShiftOptions(
        weights=shift.weights,
        pause_seconds=shift.pause_seconds,
        do_not_downsize_old_service=spec.boolean("doNotDownsizeOldService"),
        downsize_old_service_delay_in_secs=spec.integer("downsizeOldServiceDelayInSecs", 0) or 0,
        setup=setup,
    )
    return _deploy(run, bluegreen.blue_green_traffic_shift, options)


def run_traffic_shift_rollback(run: StepRun) -> StepOutcome:
    """Corral's earlier EcsBlueGreenTrafficShiftRollback: the Inherit shifts' listeners and cut-over."""
    Spec(run, set())
    return _undo(
        run,
        ("EcsBlueGreenTrafficShift",),
        "ECS Blue Green Traffic Shift",
        bluegreen.blue_green_traffic_shift_rollback,
    )


def run_standalone_traffic_shift_rollback(run: StepRun) -> StepOutcome:
    """Harness's StandAloneTrafficShiftRollback: every rule a Standalone shift changed, as it was."""
    Spec(run, set())
    return _undo(
        run,
        ("EcsBlueGreenTrafficShift",),
        "Standalone ECS Blue Green Traffic Shift",
        bluegreen.standalone_traffic_shift_rollback,
    )


def run_run_task(run: StepRun) -> StepOutcome:
    spec = Spec(
        run,
        {
            "taskDefinition",
            "taskDefinitionArn",
            "runTaskRequestDefinition",
            "skipSteadyStateCheck",
            "waitForExit",
        },
    )
    target, clients = stage_target(run)
    _run_task_manifests(spec, target)
    options = run_task.RunTaskOptions(
        skip_steady_state_check=spec.boolean("skipSteadyStateCheck"),
        wait_for_exit=spec.boolean("waitForExit"),
    )
    previous = run.previous_checkpoint or {}
    if previous.get("startedBy"):  # a re-run: its tasks carry the first attempt's startedBy
        target.run_task_request = {**(target.run_task_request or {}), "startedBy": previous["startedBy"]}
        options.adopt_started = True
    return outcome(run, run_task.run_task(step_context(run, clients), target, options))


def _run_task_manifests(spec: Spec, target: EcsTarget) -> None:
    """The step may name its task definition and RunTask request; Corral renders them as the
    stage's service manifests, so a store here must name the files the service does."""
    arn = spec.text("taskDefinitionArn")
    if arn:
        target.task_definition, target.task_definition_arn = None, arn
    for field, kind in (
        ("taskDefinition", "EcsTaskDefinition"),
        ("runTaskRequestDefinition", "EcsRunTaskRequestDefinition"),
    ):
        store = spec.data.get(field)
        if store is None or (field == "taskDefinition" and arn):
            continue
        named = _store_files(store)
        source = target.sources.get(kind, "")
        if not source or (named and not any(_same_file(name, source) for name in named)):
            raise spec.problem(
                field,
                f"names {', '.join(named) or 'a store'}, but the stage's service has "
                f"{'no ' + kind + ' manifest' if not source else 'its ' + kind + ' in ' + source}; "
                "give the service that manifest (Corral renders Run Task manifests with the service)",
            )


def _store_files(store: Any) -> list[str]:
    if not isinstance(store, Mapping):
        return []
    spec = store.get("spec") or {}
    files = spec.get("files") or spec.get("paths") or []
    return [str(f) for f in files] if isinstance(files, list) else []


def _same_file(name: str, source: str) -> bool:
    tail = name.split(":", 1)[-1].lstrip("/")
    return source.endswith(tail) or tail.endswith(source.split(":", 1)[-1].lstrip("/"))


def _checked_spec(run: StepRun) -> Spec:
    """The rendered spec, checked as `corral validate` checks it (config/ecs_step_specs.py)."""
    spec = Spec(run, set(ECS_SPEC_FIELDS[run.type]))
    problems = ecs_step_spec_problems(run.type, spec.data)
    if problems:
        raise ConfigError([Problem(spec.where, path, message) for path, message in problems])
    return spec


def _aws_clients(run: StepRun, connector_ref: str, region: str, cluster: str) -> Clients:
    """Clients for a connector a step names itself (ECS Scale's `connectorRef`)."""
    assert run.project is not None
    connector = run.project.connector(connector_ref)
    if not isinstance(connector, AwsConnector):
        raise CorralError(f"step {run.identifier} ({run.type}): {connector_ref} is not an AWS connector")
    if run.secrets is None:
        from corral.config.secrets import SecretResolver

        settings = aws_settings(connector, SecretResolver(run.project), region=region or None)
    else:
        settings = aws_settings(connector, run.secrets, region=region or None)
    clients = Clients.shared(settings.for_clients())
    if _poll_policy is not None:
        from corral.aws.poller import ServiceDeploymentPoller, ServicePoller

        ServicePoller.for_cluster(clients, cluster, policy=_poll_policy)
        ServiceDeploymentPoller.for_cluster(clients, cluster, policy=_poll_policy)
    return clients


def run_scale(run: StepRun) -> StepOutcome:
    """ECS Scale: `service`, `cluster`, `connectorRef`, `region` default to the stage's service and
    infrastructure; outside a Deployment stage the spec names them."""
    spec = _checked_spec(run)
    if spec.integer("instances") is None:
        if run.phase == EXECUTION:
            raise spec.problem("instances", "is required: a whole number")
        run.log.section("Rollback")  # no count given: the stage's ECS Scale steps are undone
        return StepOutcome(SUCCESS, {"scaledBack": _undo_scales(run)})
    stage = run.target
    where = {
        "service": spec.text("service") or spec.text("serviceName") or (stage and stage.service_name) or "",
        "cluster": spec.text("cluster") or (stage and stage.cluster) or "",
        "connectorRef": spec.text("connectorRef") or (stage and stage.connector_ref) or "",
        "region": spec.text("region") or (stage and stage.region) or "",
    }
    missing = [name for name in ("service", "cluster", "connectorRef") if not where[name]]
    if missing:
        message = "is required outside a Deployment stage (no infrastructure to take it from)"
        raise ConfigError([Problem(spec.where, f"spec.{name}", message) for name in missing])
    options = scale.ScaleOptions(
        instances=spec.integer("instances") or 0,
        instance_unit=_unit(spec, "instanceUnit"),
        skip_steady_state_check=spec.boolean("skipSteadyStateCheck"),
        service_name=where["service"],
        connector_ref=where["connectorRef"],
        region=where["region"],
    )
    clients = _aws_clients(run, where["connectorRef"], where["region"], where["cluster"])
    ctx = step_context(run, clients, keep_first=True)
    result = scale.scale(ctx, EcsTarget(cluster=where["cluster"]), options)
    return outcome(run, result, keep_first=True)


def _undo_scales(run: StepRun) -> list[str]:
    """The stage's ECS Scale steps, latest first: each service back to the count it had before."""
    undone = []
    for prior in reversed(run.prior_steps):
        if prior.phase != EXECUTION or prior.type != "EcsScale" or not prior.checkpoint:
            continue
        data = dict(prior.checkpoint)
        if data.get("connectorRef"):
            clients = _aws_clients(run, data["connectorRef"], data.get("region", ""), data["cluster"])
        else:  # journaled by an older Corral: the stage's infrastructure
            clients = stage_target(run)[1]
        scale.scale_rollback(step_context(run, clients), EcsTarget(cluster=data["cluster"]), data)
        undone.append(prior.identifier)
    return undone


def run_service_setup(run: StepRun) -> StepOutcome:
    spec = _checked_spec(run)
    down_first = spec.text("resizeStrategy") == basic.DOWNSIZE_OLD_FIRST
    options = basic.ServiceSetupOptions(
        resize_strategy=basic.DOWNSIZE_OLD_FIRST if down_first else basic.RESIZE_NEW_FIRST,
        same_as_already_running_instances=spec.boolean("sameAsAlreadyRunningInstances"),
        previous=run.previous_checkpoint or None,  # a re-run finishes the first attempt's version
    )
    return _deploy(run, basic.service_setup, options, keep_first=True)


def run_upgrade_container(run: StepRun) -> StepOutcome:
    spec = _checked_spec(run)
    old_count = spec.integer("downsizeOldServiceInstanceCount")
    options = basic.UpgradeContainerOptions(
        new_service_instance_count=spec.integer("newServiceInstanceCount") or 0,
        new_service_instance_unit=_unit(spec, "newServiceInstanceUnit"),
        downsize_old_service_instance_count=old_count,
        downsize_old_service_instance_unit=_unit(spec, "downsizeOldServiceInstanceUnit")
        if old_count is not None
        else None,
        setup=_setup(run, "EcsServiceSetup"),
    )
    return _deploy(run, basic.upgrade_container, options)


def _unit(spec: Spec, name: str) -> basic.InstanceUnit:
    return "Percentage" if spec.text(name) == "Percentage" else "Count"


def run_basic_rollback(run: StepRun) -> StepOutcome:
    """Undo the stage's ECS Scale steps, then ECS Service Setup and its Upgrade Containers."""
    _checked_spec(run)
    scaled_back = _undo_scales(run)
    result = _undo(run, ("EcsServiceSetup",), "ECS Service Setup", basic.basic_rollback)
    return StepOutcome(result.status, {**result.outputs, "scaledBack": scaled_back})


# ---------------------------------------------------------------- ECS-native deployments


def _started_deployment(prior: PriorStep) -> str | None:
    """The service deployment ARN a Rolling Deploy journaled (its outputs, else its checkpoint:
    a step that failed or was killed while following it has no outputs)."""
    for data in (prior.outputs, prior.checkpoint or {}):
        arn = data.get("serviceDeploymentArn")
        if arn:
            return str(arn)
    return None


def _native_target(run: StepRun, known: set[str]) -> tuple[Spec, StepContext, str]:
    """The spec, a context on the stage's infrastructure, and the deployment to act on: the
    spec's `serviceDeploymentArn`, else the one the stage's latest EcsRollingDeploy started."""
    spec = Spec(run, {"serviceDeploymentArn", *known})
    arn = spec.text("serviceDeploymentArn")
    if not arn:
        prior = latest(run, "EcsRollingDeploy")
        arn = (_started_deployment(prior) if prior is not None else None) or ""
    if not arn:
        raise spec.problem(
            "serviceDeploymentArn",
            "is required: no EcsRollingDeploy before this step in the stage started an ECS service "
            "deployment (the service needs deploymentController ECS)",
        )
    try:
        where = steering.DeploymentArn.parse(arn)
    except DeploymentError as error:
        raise spec.problem("serviceDeploymentArn", str(error)) from None
    clients = stage_target(run)[1]
    if where.region != clients.region:
        raise spec.problem(
            "serviceDeploymentArn",
            f"is in {where.region}, but the stage's infrastructure is in {clients.region}",
        )
    return spec, step_context(run, clients), arn


def _until(spec: Spec, default: str | None) -> str | None:
    until = spec.text("waitUntil") or default
    problem = wait_until_problem(until) if until is not None else None
    if problem is not None:
        raise spec.problem("waitUntil", problem)
    return until


def run_service_deployment_wait(run: StepRun) -> StepOutcome:
    spec, ctx, arn = _native_target(run, {"waitUntil"})
    until = _until(spec, SUCCESSFUL)
    assert until is not None
    with ctx.calls():
        deployment = steering.wait(ctx, arn, until)
    return StepOutcome(SUCCESS, deployment_outputs(deployment))


def run_service_deployment_continue(run: StepRun) -> StepOutcome:
    spec, ctx, arn = _native_target(run, {"hookId", "waitUntil"})
    until = _until(spec, None)
    already = (run.previous_checkpoint or {}).get("continuedHookIds") or []
    with ctx.calls():
        hooks, deployment = steering.continue_and_wait(
            ctx, arn, hook_id=spec.text("hookId") or None, already=already, until=until
        )
    return StepOutcome(SUCCESS, {**deployment_outputs(deployment), "continuedHookIds": hooks})


def run_service_deployment_rollback(run: StepRun) -> StepOutcome:
    """In a stage's rollback steps a deployment that already ended is left as it is."""
    _spec, ctx, arn = _native_target(run, set())
    with ctx.calls():
        if run.phase != EXECUTION:
            move = steering.roll_back_unfinished(ctx, arn)
            deployment = steering.describe(ctx, arn)
        else:
            move, deployment = steering.roll_back(ctx, arn)
    return StepOutcome(SUCCESS, {**deployment_outputs(deployment), "rollbackMove": move})


def run_service_deployment_stop(run: StepRun) -> StepOutcome:
    _spec, ctx, arn = _native_target(run, set())
    with ctx.calls():
        deployment = steering.stop(ctx, arn)
    return StepOutcome(SUCCESS, deployment_outputs(deployment))


STEP_TYPES: dict[str, Callable[[StepRun], StepOutcome]] = {
    "EcsRollingDeploy": run_rolling_deploy,
    "EcsRollingRollback": run_rolling_rollback,
    "EcsCanaryDeploy": run_canary_deploy,
    "EcsCanaryDelete": run_canary_delete,
    "EcsBlueGreenCreateService": run_blue_green_create_service,
    "EcsBlueGreenSwapTargetGroups": run_swap_target_groups,
    "EcsBlueGreenRollback": run_blue_green_rollback,
    "EcsBlueGreenTrafficShift": run_traffic_shift,
    "EcsBlueGreenTrafficShiftRollback": run_traffic_shift_rollback,
    "StandAloneTrafficShiftRollback": run_standalone_traffic_shift_rollback,
    "EcsRunTask": run_run_task,
    "EcsScale": run_scale,
    "EcsServiceSetup": run_service_setup,
    "EcsUpgradeContainer": run_upgrade_container,
    "EcsBasicRollback": run_basic_rollback,
    "EcsServiceDeploymentWait": run_service_deployment_wait,
    "EcsServiceDeploymentContinue": run_service_deployment_continue,
    "EcsServiceDeploymentRollback": run_service_deployment_rollback,
    "EcsServiceDeploymentStop": run_service_deployment_stop,
}


def register_ecs_steps() -> None:
    """Each step type with its spec model (ecs_step_types.py), checked before a run starts."""
    for type_name, impl in STEP_TYPES.items():
        register(type_name, impl, spec=ECS_SPECS.get(type_name))
