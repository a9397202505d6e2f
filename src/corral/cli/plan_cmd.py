"""`corral plan PIPELINE`: what each Deployment stage would change on its ECS service, as a diff.

For every Deployment stage: render its service for its infrastructure (with the inputs given),
read what is live (DescribeServices, DescribeTaskDefinition, DescribeScalableTargets,
DescribeScalingPolicies, DescribeListeners; read calls only) and print a unified diff per part:
task definition, service, auto scaling, and for Blue Green the listeners before and after the swap. Only the fields the manifests set are compared, so defaults AWS fills in
do not show as changes. A service that does not exist yet is "new service".
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

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
    <+input> (or their default) and are listed at the end, as the run will ask for them."""
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
                    "note": p.note,
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
        if p.new:
            click.echo(f"{head}: new service")
        elif not p.changed:
            click.echo(f"{head}: no changes")
        else:
            click.echo(f"{head}:")
        if p.note:
            click.echo(f"  {p.note}")
        for lines in p.diffs.values():
            for line in lines:
                click.echo(_colour(line))


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
    if rendered.service_definition is None:
        what = "runs a task" if rendered.run_task_request is not None else "has no service definition"
        return StagePlan(stage, None, rendered.cluster, note=f"{what}: nothing live to compare")
    desired_service = rendered.service_definition.request
    name = str(desired_service.get("serviceName", ""))
    result = StagePlan(stage, name, rendered.cluster)
    clients = _clients(project, rendered)
    if blue_green is not None:
        result.diffs["listeners"] = _listener_diff(clients.elbv2, blue_green)
    if blue_green is not None:
        live = _blue_service(clients.ecs, rendered.cluster, name)
        if live is not None:
            result.note = (
                f"Blue Green: a green service is made from these manifests beside the blue one, "
                f"{live['serviceName']}, which is compared here"
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
    if blue_green is not None:  # the green service registers in the stage listener's target group
        wanted = _with_stage_group(wanted, _stage_group_arn(clients.elbv2, blue_green))
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
    import yaml  # type: ignore[import-untyped]  # only when there is a diff to show

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


def _blue_green_spec(stage: Any) -> dict[str, Any] | None:
    """The spec of the stage's EcsBlueGreenCreateService step, if it has one."""
    from corral.engine.plan import GroupNode, ParallelNode

    pending = list(stage.steps)
    while pending:
        element = pending.pop(0)
        if isinstance(element, GroupNode):
            pending.extend(element.steps)
        elif isinstance(element, ParallelNode):
            pending.extend(element.branches)
        elif element.type == "EcsBlueGreenCreateService":
            return dict(element.spec)
    return None


def _listener_diff(elbv2: Any, spec: dict[str, Any]) -> list[str]:
    """Blue Green: where the prod and stage listeners forward now, and after the swap."""
    arns = {role: spec.get(f"{role}Listener") for role in ("prod", "stage")}
    if not all(isinstance(arn, str) and arn.startswith("arn:") for arn in arns.values()):
        return []
    found = elbv2.describe_listeners(ListenerArns=list(arns.values()))["Listeners"]
    forwards = {listener["ListenerArn"]: _forward_groups(listener) for listener in found}
    live = {f"{role} listener": forwards.get(arn, "(not found)") for role, arn in arns.items()}
    swapped = {"prod listener": live["stage listener"], "stage listener": live["prod listener"]}
    return diff("listeners", live, swapped)


def _stage_group_arn(elbv2: Any, spec: dict[str, Any]) -> str | None:
    arn = spec.get("stageListener")
    if not (isinstance(arn, str) and arn.startswith("arn:")):
        return None
    for listener in elbv2.describe_listeners(ListenerArns=[arn])["Listeners"]:
        for action in listener.get("DefaultActions", []):
            if action.get("TargetGroupArn"):
                return str(action["TargetGroupArn"])
    return None


def _with_stage_group(wanted: dict[str, Any], group_arn: str | None) -> dict[str, Any]:
    if group_arn is None or "loadBalancers" not in wanted:
        return wanted
    balancers = [
        {**lb, "targetGroupArn": group_arn} if "<+" in str(lb.get("targetGroupArn", "")) else lb
        for lb in wanted["loadBalancers"]
    ]
    return {**wanted, "loadBalancers": balancers}


def _forward_groups(listener: dict[str, Any]) -> str:
    groups: list[str] = []
    for action in listener.get("DefaultActions", []):
        if action.get("TargetGroupArn"):
            groups.append(action["TargetGroupArn"].rsplit(":", 1)[-1])
        for group in action.get("ForwardConfig", {}).get("TargetGroups", []):
            groups.append(group["TargetGroupArn"].rsplit(":", 1)[-1])
    return ", ".join(sorted(set(groups))) or "(no forward)"


def _blue_service(ecs: Any, cluster: str, name: str) -> dict[str, Any] | None:
    """The Blue Green service that takes production traffic: `<name>__1` or `<name>__2`, the one
    tagged BG_VERSION=BLUE (or the only one)."""
    names = [f"{name}__1", f"{name}__2"]
    answer = ecs.describe_services(cluster=cluster, services=names, include=["TAGS"])
    found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    for service in found:
        tags = {t.get("key"): t.get("value") for t in service.get("tags", [])}
        if tags.get("BG_VERSION") == "BLUE":
            return dict(service)
    return dict(found[0]) if len(found) == 1 else None


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
