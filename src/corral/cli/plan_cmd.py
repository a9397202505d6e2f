"""`corral plan PIPELINE`: what each Deployment stage would change on its ECS service, as a diff.

For every Deployment stage: render its service for its infrastructure (with the inputs given),
read what is live (DescribeServices, DescribeTaskDefinition, DescribeScalableTargets,
DescribeScalingPolicies, DescribeListeners; read calls only) and print a unified diff per part:
task definition, service, auto scaling, and for Blue Green the listeners before and after the
cut-over. Blue Green decides which service is live by where production traffic goes, with the
code ECS Blue Green Create Service runs (corral.ecs.bluegreen.preview), and compares that one.
A traffic shift step's weights and a Standalone shift's rule and `forwardConfig` target groups
are checked as the step would check them; each problem names the file and path. Only the fields
the manifests set are compared, so defaults AWS fills in do not show as changes. A service that
does not exist yet is "new service". A service definition with an ECS-native strategy
(BLUE_GREEN, LINEAR, CANARY) also gets its phases and a duration estimate (manifests/native_phases.py).
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from corral.cli.render_cmd import native_deployment
from corral.cli.run_support import (
    EXIT_SUCCESS,
    echo_json,
    given_values,
    pipeline_errors,
    pipeline_project,
    project_option,
    with_inputs,
)
from corral.ecs.service_requests import CONNECTIVITY, clear_connectivity, contains, live_view

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.manifests.native_phases import DeploymentPhases
    from corral.manifests.service_rendering import RenderedService

# service fields compared (CreateService's that UpdateService can change, or that need a new service)
SERVICE_FIELDS = (
    "desiredCount",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "deploymentConfiguration",
    "networkConfiguration",
    "loadBalancers",
    "serviceRegistries",
    "healthCheckGracePeriodSeconds",
    "enableExecuteCommand",
    "propagateTags",
    "schedulingStrategy",
    "serviceConnectConfiguration",
    "vpcLatticeConfigurations",
)
MASKED = "<secret>"


@dataclass
class StagePlan:
    stage: str
    service: str | None
    cluster: str
    new: bool = False
    diffs: dict[str, list[str]] = field(default_factory=dict)  # part -> unified diff lines
    note: str | None = None
    unknown: bool = False  # decided only when the run gets there (a provisioned infrastructure)
    native: DeploymentPhases | None = None  # the phases of ECS's own strategy, if the service has one

    @property
    def changed(self) -> bool:
        return self.new or any(self.diffs.values())


@click.command("plan")
@click.argument("pipeline")
@with_inputs
@click.option("--json", "json_output", is_flag=True, help="Print the plan as JSON.")
@project_option
@pipeline_errors
def plan(
    pipeline: str,
    inputs: tuple[str, ...],
    inputs_file: str | None,
    sets: tuple[str, ...],
    input_sets: tuple[str, ...],
    json_output: bool,
    project_dir: str | None,
) -> None:
    """Show, for each Deployment stage of PIPELINE, the difference between what would be deployed
    and what is live. Changes nothing. Runtime inputs given no value are no error: they show as
    <+input> (or their default) and are listed at the end, as the run will ask for them. A
    service definition with an ECS-native strategy (BLUE_GREEN, LINEAR, CANARY) also shows its
    phases and an estimate of the deployment's duration."""
    from corral.config.input_listing import unique_lines
    from corral.engine import build_plan
    from corral.engine.inputs import pipeline_inputs
    from corral.engine.pipeline_checks import step_problems
    from corral.errors import ConfigError

    given, set_values = given_values(inputs, sets)
    project, pipeline_id = pipeline_project(project_dir, pipeline)
    filled = pipeline_inputs(
        project,
        pipeline_id,
        inputs=given,
        inputs_file=inputs_file,
        input_sets=input_sets,
        satisfiable=True,
    )
    pipeline_plan = build_plan(filled.raw, file=filled.pipeline.file)
    problems = step_problems(pipeline_plan, filled.pipeline)
    if problems:
        raise ConfigError(problems)
    pending = list(filled.pending)
    for stage in pipeline_plan.all_stages:
        if stage.target is not None and stage.target.service:
            _check_traffic_shifts(project, pipeline_id, stage, filled.service_inputs, set_values)
    unknown: list[set[str]] = []
    plans = [
        stage_plan(
            project,
            stage.identifier,
            stage.target,
            filled.service_inputs,
            _blue_green_spec(stage),
            sets=set_values,
            pending=pending,
            unknown_inputs=unknown,
        )
        for stage in pipeline_plan.all_stages
        if stage.target is not None and stage.target.service
    ]
    # as `corral run`: a service input is an error only when no stage's service has it
    nowhere = set.intersection(*unknown) if unknown and len(unknown) == len(plans) else set()
    if nowhere:
        from corral.errors import ConfigError, Problem

        raise ConfigError(
            [
                Problem("--input", key, "no stage's service has a runtime input at this path")
                for key in sorted(nowhere)
            ]
        )
    if json_output:
        echo_json(
            [
                {
                    "stage": p.stage,
                    "service": p.service,
                    "cluster": p.cluster,
                    "new": p.new,
                    "changed": p.changed,
                    "unknown": p.unknown,
                    "note": p.note,
                    "nativeDeployment": p.native.to_dict() if p.native else None,
                    "diff": {part: "\n".join(lines) for part, lines in p.diffs.items() if lines},
                }
                for p in plans
            ]
        )
    else:
        print_plans(plans)
        print_pending(unique_lines(pending))
    sys.exit(EXIT_SUCCESS)


def print_pending(pending: list[Any]) -> None:
    if pending:
        click.echo(f"runtime inputs given no value ({len(pending)}); the run will ask for them:")
        for line in pending:
            click.echo(f"  {line.text()}")


def print_plans(plans: list[StagePlan]) -> None:
    if not plans:
        click.echo("no Deployment stage with a service: nothing to compare")
    for p in plans:
        head = f"stage {p.stage}: service {p.service or '-'} in cluster {p.cluster}"
        if p.unknown:
            click.echo(f"{head}: not known before the run")
        elif p.new:
            click.echo(f"{head}: new service")
        elif not p.changed:
            click.echo(f"{head}: no changes")
        else:
            click.echo(f"{head}:")
        if p.note:
            click.echo(f"  {p.note}")
        if p.native:
            print_native(p.native)
        for lines in p.diffs.values():
            for line in lines:
                click.echo(_colour(line))


def print_native(native: DeploymentPhases) -> None:
    """The phases of ECS's own strategy and the estimate, with what it assumes."""
    click.echo(f"  ECS {native.strategy} deployment: {native.line()}")
    for note in native.notes:
        click.echo(f"  {note}")
    click.echo(f"  estimate: {native.estimate_line()}")
    click.echo(f"  (assumes {'; '.join(native.estimate.assumes)})")


def stage_plan(
    project: Project,
    stage: str,
    target: Any,
    inputs: dict[str, Any],
    blue_green: dict[str, Any] | None = None,
    *,
    sets: dict[str, Any] | None = None,
    pending: list[Any] | None = None,
    unknown_inputs: list[set[str]] | None = None,
) -> StagePlan:
    """The stage's plan; its service's inputs that nothing gave are added to `pending`. With
    `unknown_inputs`, given inputs this stage's service does not have are noted there and left
    out (another stage's service may have them); without it they are errors."""
    from corral.config.stage_inputs import fixed_inputs
    from corral.errors import ConfigError
    from corral.manifests.service_rendering import RenderOptions, render_outcome

    fixed, problems = fixed_inputs(
        project, target.inputs, target.service, target.environment, target.infrastructure or ""
    )
    if problems:
        raise ConfigError(problems)

    def render(given: dict[str, Any]) -> Any:
        return render_outcome(
            project,
            target.service,
            target.environment,
            target.infrastructure or "",
            inputs={**given, **fixed},
            sets=sets,
            # registry lookups: the image a run would deploy now (tagRegex, digest: resolve, an Ecr account)
            options=RenderOptions(satisfiable=True, secrets=lambda ref: MASKED, registry_lookups=True),
        )

    outcome = render(inputs)
    unknown = {p.path for p in outcome.problems if p.file == "--input"}
    if unknown and unknown_inputs is not None:
        unknown_inputs.append(unknown)
        outcome = render({key: value for key, value in inputs.items() if key not in unknown})
    elif unknown_inputs is not None:
        unknown_inputs.append(set())
    if outcome.problems or outcome.rendered is None:
        raise ConfigError(outcome.problems)
    rendered = outcome.rendered
    if pending is not None:
        pending += outcome.pending
    if "<+provisioner." in f"{rendered.cluster} {rendered.region}":
        return StagePlan(
            stage,
            None,
            rendered.cluster,
            note="the infrastructure takes its cluster and region from the stage's provisioner, which "
            "runs only with the pipeline: nothing live to compare",
            unknown=True,
        )
    if rendered.service_definition is None:
        what = "runs a task" if rendered.run_task_request is not None else "has no service definition"
        return StagePlan(stage, None, rendered.cluster, note=f"{what}: nothing live to compare")
    desired_service = rendered.service_definition.request
    name = str(desired_service.get("serviceName", ""))
    result = StagePlan(stage, name, rendered.cluster, native=native_deployment(rendered))
    clients = _clients(project, rendered)
    if result.native is not None:  # ECS's own strategy: its rules and target groups, as AWS has them
        from corral.manifests.native_live_checks import native_load_balancer_problems

        source = rendered.service_definition.source
        found = native_load_balancer_problems(clients.elbv2, desired_service, source)
        if found:
            raise ConfigError(found)
    stage_group = None
    if blue_green is not None:
        from corral.ecs.bluegreen.preview import preview

        view = preview(clients, cluster=rendered.cluster, service_name=name, create_spec=blue_green)
        result.diffs["listeners"] = diff("listeners", *view.listeners)
        live, stage_group, result.note = view.live, view.stage_group, view.note
        if live is not None:
            result.note = (
                f"Blue Green: a green service is made from these manifests beside the blue one, "
                f"{live['serviceName']}, which is compared here" + (f" ({view.note})" if view.note else "")
            )
    else:
        live = _live_service(clients.ecs, rendered.cluster, name)
    if live is None:
        result.new = True
        return result
    if rendered.task_definition is not None:
        live_td = clients.ecs.describe_task_definition(taskDefinition=live["taskDefinition"])[
            "taskDefinition"
        ]
        result.diffs["task definition"] = diff(
            "task definition",
            _shaped(live_td, rendered.task_definition.request),
            rendered.task_definition.request,
        )
    wanted = {k: desired_service[k] for k in SERVICE_FIELDS if k in desired_service}
    if blue_green is not None:  # the green service registers in the stage target group
        wanted = _with_stage_group(wanted, stage_group)
    # Service Connect and VPC Lattice are read from the PRIMARY deployment; left out of the
    # manifest while live, the deploy turns them off (service_requests.clear_connectivity)
    viewed = live_view(live)
    wanted = clear_connectivity(wanted, viewed)
    result.diffs["service"] = diff("service", _shaped(viewed, wanted), _shown(wanted, viewed))
    result.diffs["auto scaling"] = _scaling_diff(clients, rendered, name)
    return result


def diff(part: str, live: Any, desired: Any) -> list[str]:
    """A unified diff of two values shown as YAML; empty when they are the same."""
    if live == desired:
        return []
    import yaml  # only when there is a diff to show

    before = yaml.safe_dump(live, sort_keys=True, default_flow_style=False).splitlines()
    after = yaml.safe_dump(desired, sort_keys=True, default_flow_style=False).splitlines()
    return list(difflib.unified_diff(before, after, f"live {part}", f"planned {part}", lineterm="", n=2))


def _shaped(live: Any, desired: Any) -> Any:
    """live, keeping only what desired sets (dicts by key, lists item by item)."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return {k: _shaped(live[k], v) for k, v in desired.items() if k in live}
    if isinstance(desired, list) and isinstance(live, list):
        return [_shaped(item, desired[i]) if i < len(desired) else item for i, item in enumerate(live)]
    if isinstance(desired, str) and isinstance(live, int | float) and not isinstance(live, bool):
        return str(live)  # task-level cpu/memory: "256" in requests, 256 in some answers
    return live


def _shown(wanted: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The planned side: a member switched off that is already off is not shown as a change."""
    return {
        k: v for k, v in wanted.items() if not (k in CONNECTIVITY and k not in live and contains(None, v))
    }


def _scaling_diff(clients: Any, rendered: RenderedService, name: str) -> list[str]:
    if not rendered.scalable_targets and not rendered.scaling_policies and not rendered.scheduled_actions:
        return []
    resource = f"service/{rendered.cluster}/{name}"
    aas = clients.autoscaling
    targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    keep_target = ("ScalableDimension", "MinCapacity", "MaxCapacity")
    keep_policy = (
        "PolicyName",
        "PolicyType",
        "TargetTrackingScalingPolicyConfiguration",
        "StepScalingPolicyConfiguration",
    )
    desired = {
        "targets": [
            {k: m.request[k] for k in keep_target if k in m.request} for m in rendered.scalable_targets
        ],
        "policies": [
            {k: m.request[k] for k in keep_policy if k in m.request} for m in rendered.scaling_policies
        ],
    }
    live = {
        "targets": [{k: t[k] for k in keep_target if k in t} for t in targets],
        "policies": [
            _shaped(p, desired["policies"][i]) if i < len(desired["policies"]) else p
            for i, p in enumerate({k: p[k] for k in keep_policy if k in p} for p in policies)
        ],
    }
    if rendered.scheduled_actions:
        scheduled = aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=resource)[
            "ScheduledActions"
        ]
        desired["scheduled actions"] = sorted(
            (_scheduled(m.request) for m in rendered.scheduled_actions),
            key=lambda a: a["ScheduledActionName"],
        )
        live["scheduled actions"] = sorted(
            (_scheduled(a) for a in scheduled), key=lambda a: a["ScheduledActionName"]
        )
    return diff("auto scaling", live, desired)


def _scheduled(action: dict[str, Any]) -> dict[str, Any]:
    """A scheduled action as the plan compares it: what PutScheduledAction sets, times as text."""
    keep = ("ScheduledActionName", "Schedule", "Timezone", "StartTime", "EndTime", "ScalableTargetAction")
    out = {k: action[k] for k in keep if action.get(k) is not None}
    for key in ("StartTime", "EndTime"):
        if key in out:
            out[key] = _utc_text(out[key])
    return out


def _utc_text(value: Any) -> str:
    import datetime as dt

    moment = (
        value
        if isinstance(value, dt.datetime)
        else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _steps_of(stage: Any) -> list[Any]:
    """Every step of the stage's execution, in order (step groups and parallel branches opened)."""
    from corral.engine.plan import walk_steps

    return list(walk_steps(stage.steps, rollback=False))


def _check_traffic_shifts(
    project: Project, pipeline_id: str, stage: Any, inputs: dict[str, Any], sets: dict[str, Any]
) -> None:
    """A traffic shift step's spec with the inputs given, and a Standalone shift's rule and target
    groups against the load balancer: what the step would refuse, before anything runs."""
    from corral.config.problems import split_path
    from corral.config.traffic_shift_spec import STANDALONE, WRAPPER, traffic_shift_problems
    from corral.ecs.bluegreen.preview import standalone_problems
    from corral.errors import ConfigError, Problem

    pipeline = project.pipelines[pipeline_id]
    create = _blue_green_spec(stage) or {}
    variables = {str(v.get("name")): v.get("value") for v in stage.variables}
    problems: list[Problem] = []
    for step in _steps_of(stage):
        if step.type != "EcsBlueGreenTrafficShift":
            continue
        spec = _with_stage_variables(step.spec, variables)
        found = traffic_shift_problems(spec)
        wrapper = spec.get(WRAPPER)
        if not found and isinstance(wrapper, dict) and wrapper.get("type") == STANDALONE:
            target = _clients_for_stage(project, stage, inputs, sets)
            if target is not None:
                found = standalone_problems(
                    target, wrapper, prod_rule_arn=str(create.get("prodListenerRuleArn") or "")
                )
        for path, message in found:
            full = f"{step.path}.{path}"
            problems.append(Problem(pipeline.where(split_path(full)), full, message))
    if problems:
        raise ConfigError(problems)


def _with_stage_variables(value: Any, variables: dict[str, Any]) -> Any:
    """`<+stage.variables.NAME>` standing alone, replaced by the variable's value when that is known."""
    if isinstance(value, dict):
        return {k: _with_stage_variables(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_stage_variables(v, variables) for v in value]
    if isinstance(value, str) and value.startswith("<+stage.variables.") and value.endswith(">"):
        known = variables.get(value[len("<+stage.variables.") : -1])
        if isinstance(known, str) and "<+" not in known:
            return known
    return value


def _clients_for_stage(project: Project, stage: Any, inputs: dict[str, Any], sets: dict[str, Any]) -> Any:
    """Clients for the stage's infrastructure, or None when it cannot be rendered yet."""
    from corral.manifests.service_rendering import RenderOptions, render_outcome

    target = stage.target

    def render(given: dict[str, Any]) -> Any:
        return render_outcome(
            project,
            target.service,
            target.environment,
            target.infrastructure or "",
            inputs=given,
            sets=sets,
            options=RenderOptions(satisfiable=True, secrets=lambda ref: MASKED),
        )

    outcome = render(inputs)
    unknown = {p.path for p in outcome.problems if p.file == "--input"}  # another stage's service's
    if unknown:
        outcome = render({key: value for key, value in inputs.items() if key not in unknown})
    return None if outcome.rendered is None else _clients(project, outcome.rendered)


def _blue_green_spec(stage: Any) -> dict[str, Any] | None:
    """The spec of the stage's EcsBlueGreenCreateService step, if it has one."""
    from corral.engine.plan import walk_steps

    for step in walk_steps(stage.steps, rollback=False):
        if step.type == "EcsBlueGreenCreateService":
            return dict(step.spec)
    return None


def _with_stage_group(wanted: dict[str, Any], group_arn: str | None) -> dict[str, Any]:
    if group_arn is None or "loadBalancers" not in wanted:
        return wanted
    balancers = [
        {**lb, "targetGroupArn": group_arn} if "<+" in str(lb.get("targetGroupArn", "")) else lb
        for lb in wanted["loadBalancers"]
    ]
    return {**wanted, "loadBalancers": balancers}


def _live_service(ecs: Any, cluster: str, name: str) -> dict[str, Any] | None:
    services = ecs.describe_services(cluster=cluster, services=[name]).get("services", [])
    found = [s for s in services if s.get("status") != "INACTIVE"]
    return found[0] if found else None


def _clients(project: Project, rendered: RenderedService) -> Any:
    """Clients for the infrastructure's connector; AWS_ENDPOINT_URL and AWS_PROFILE apply when
    the connector names no endpoint or keys (the same project runs against AWS or a sandbox)."""
    from corral.aws.clients import Clients
    from corral.config.connections import aws_settings
    from corral.config.entities.connector import AwsConnector
    from corral.config.secrets import SecretResolver
    from corral.errors import ConfigError, Problem

    connector = project.connector(rendered.connector_ref)
    if not isinstance(connector, AwsConnector):
        raise ConfigError(
            [Problem("", rendered.connector_ref, "expected an Aws connector for the infrastructure")]
        )
    resolved = aws_settings(connector, SecretResolver(project), region=rendered.region)
    return Clients(resolved.for_clients())


def _colour(line: str) -> str:
    if line.startswith("+") and not line.startswith("+++"):
        return click.style(line, fg="green")
    if line.startswith("-") and not line.startswith("---"):
        return click.style(line, fg="red")
    return line
