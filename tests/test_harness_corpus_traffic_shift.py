"""The Harness corpus's traffic shifting pipelines (Inherit and Standalone, the two samples of
Harness's ECS Blue-Green Traffic Shifting page) run on the sandbox with `corral run`, given only
their run-time inputs (an inputs file in Harness's input set shape): to Success, and with a
failure at the traffic shift step, back to exactly the state before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from corral.ecs.listeners import forward_weights
from corral.sandbox import Sandbox
from tests.ecs.support import EcsEnv, differences, snapshot
from tests.ecs.test_bluegreen_support import live_service
from tests.test_harness_corpus import PROJECT, corral_cli

pytestmark = pytest.mark.sandbox(speed=150)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The corpus project in a scratch folder (Corral writes `.corral/` there)."""
    root = tmp_path / "ecs_tutorial"
    shutil.copytree(PROJECT, root)
    return root


class Layout:
    """The tutorial's load balancer as the traffic shifting page sets it up: one listener, a prod
    rule and a dev rule, each forwarding to both target groups (all traffic to the first), and
    the live (BLUE) service myapp__1 in the first target group, with autoscaling."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.env = env = EcsEnv.create(sandbox, cluster="staging")
        elb = env.elbv2
        self.lb = elb.create_load_balancer(Name="ecs-tutorial-alb", Subnets=env.subnets)["LoadBalancers"][0]
        self.groups = [
            elb.create_target_group(
                Name=name,
                Protocol="HTTP",
                Port=80,
                VpcId=env.vpc_id,
                TargetType="ip",
                HealthCheckIntervalSeconds=5,
                HealthCheckTimeoutSeconds=2,
                HealthyThresholdCount=2,
            )["TargetGroups"][0]["TargetGroupArn"]
            for name in ("example-tg-ip-1", "example-tg-ip-2")
        ]
        prod, stage = self.groups
        both = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": prod, "Weight": 100}, {"TargetGroupArn": stage, "Weight": 0}]}}]  # fmt: skip
        self.listener = elb.create_listener(
            LoadBalancerArn=self.lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": prod}],
        )["Listeners"][0]["ListenerArn"]
        self.prod_rule, self.dev_rule = (
            elb.create_rule(
                ListenerArn=self.listener,
                Priority=priority,
                Conditions=[{"Field": "host-header", "Values": [host]}],
                Actions=both,
            )["Rules"][0]["RuleArn"]
            for priority, host in ((10, "app.example.com"), (20, "dev.app.example.com"))
        )
        live_service(env, "myapp__1", "web:1", prod)

    def weights(self, rule: str) -> dict[str, int]:
        return forward_weights(self.env.elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"])

    def state(self) -> dict[str, Any]:
        found = {name: snapshot(self.env, name) for name in ("myapp__1", "myapp__2")}
        for item in found.values():
            if item["service"]["status"] == "INACTIVE":  # deleted: as good as never made
                item["service"]["status"] = "MISSING"
        return {**found, "rules": self.env.elbv2.describe_rules(ListenerArn=self.listener)["Rules"]}

    def inputs(self, pipeline: str, stage: str, shift: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run-time inputs, as a Harness input set gives them."""
        create = {
            "loadBalancer": "ecs-tutorial-alb",
            "prodListener": self.listener,
            "prodListenerRuleArn": self.prod_rule,
            "stageTargetGroupArn": self.groups[1],
        }
        steps = [_step("EcsBlueGreenCreateService", create)]
        if shift is not None:
            steps.append(_step("EcsBlueGreenTrafficShift", {"ecsTrafficShiftWrapper": {"spec": shift}}))
        variables = [{"name": n, "type": "String", "value": v} for n, v in self.network().items()]
        spec: dict[str, Any] = {
            "service": {
                "serviceRef": "ecs_bluegreen_shift",
                "serviceInputs": {"serviceDefinition": {"type": "ECS", "spec": {"variables": variables}}},
            },
            "environment": {
                "environmentRef": "devEcs",
                # the environment and its overrides have no run-time inputs of their own
                "environmentInputs": {"identifier": "devEcs", "type": "PreProduction"},
                "serviceOverrideInputs": {},
                "infrastructureDefinitions": [{"identifier": "ecsDevCluster"}],
            },
            "execution": {"steps": [{"stepGroup": {"identifier": "blueGreenDeployment", "steps": steps}}]},
        }
        stage_body: dict[str, Any] = {"identifier": stage, "type": "Deployment", "spec": spec}
        if pipeline == "ecs_bluegreen_sample":
            stage_body["variables"] = [
                {"name": "stageTargetGroup", "type": "String", "value": self.groups[1]},
                {"name": "prodTargetGroup", "type": "String", "value": self.groups[0]},
            ]
        return {"pipeline": {"identifier": pipeline, "stages": [{"stage": stage_body}]}}

    def network(self) -> dict[str, str]:
        return {"securityGroup": self.env.security_group, "subnet": self.env.subnets[0]}

    def run(self, project: Path, tmp_path: Path, pipeline: str, inputs: dict[str, Any]) -> dict[str, Any]:
        path = tmp_path / "inputs.yaml"
        path.write_text(yaml.safe_dump(inputs), encoding="utf-8")
        aws = {
            "AWS_ENDPOINT_URL": self.env.sandbox.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        store = f"sqlite:///{tmp_path / 'corral.db'}"
        # the service's own inputs also by name (as the corpus's rolling test gives them): Corral
        # does not yet fill a service's inputs from the stage's `serviceInputs`
        network = [
            f"serviceDefinition.spec.variables[{i}].value={v}" for i, v in enumerate(self.network().values())
        ]
        result = corral_cli(
            "run", pipeline, "--store", store, "--inputs-file", str(path),
            "--input", network[0], "--input", network[1], "--json", cwd=project, env=aws,
        )  # fmt: skip
        assert result.stdout, result.stderr
        return dict(json.loads(result.stdout))


def _step(identifier: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"step": {"identifier": identifier, "type": identifier, "spec": spec}}


def _statuses(execution: dict[str, Any]) -> dict[str, str]:
    return {step["identifier"]: step["status"] for step in execution.get("steps", [])}


def test_the_inherit_sample_shifts_70_percent_of_production(
    sandbox: Sandbox,
    project: Path,
    tmp_path: Path,
) -> None:
    layout = Layout(sandbox)
    prod, stage = layout.groups
    execution = layout.run(
        project,
        tmp_path,
        "ecs_bluegreen_inherit_example",
        layout.inputs("ecs_bluegreen_inherit_example", "ecs_inherit_stage"),
    )

    assert execution["status"] == "Success", execution
    assert layout.weights(layout.prod_rule) == {prod: 30, stage: 70}
    assert layout.weights(layout.dev_rule) == {prod: 100, stage: 0}
    new = layout.env.describe("myapp__2")
    assert new is not None and new["runningCount"] == new["desiredCount"] == 2
    assert new["loadBalancers"][0]["targetGroupArn"] == stage
    tags = {t["key"]: t["value"] for t in new["tags"]}
    assert tags["BG_VERSION"] == "GREEN"  # Harness tags the new service BLUE only at 100


def test_the_standalone_sample_shifts_the_dev_rule_only(
    sandbox: Sandbox,
    project: Path,
    tmp_path: Path,
) -> None:
    layout = Layout(sandbox)
    prod, stage = layout.groups
    inputs = layout.inputs(
        "ecs_bluegreen_sample",
        "ecstrafficshifting",
        {"loadBalancer": "ecs-tutorial-alb", "listener": layout.listener, "listenerRuleArn": layout.dev_rule},
    )
    execution = layout.run(project, tmp_path, "ecs_bluegreen_sample", inputs)

    assert execution["status"] == "Success", execution
    assert layout.weights(layout.dev_rule) == {stage: 70, prod: 30}  # forwardConfig's order
    assert layout.weights(layout.prod_rule) == {prod: 100, stage: 0}


@pytest.mark.parametrize(
    ("pipeline", "stage", "standalone"),
    [
        ("ecs_bluegreen_inherit_example", "ecs_inherit_stage", False),
        ("ecs_bluegreen_sample", "ecstrafficshifting", True),
    ],
)
def test_a_failed_traffic_shift_rolls_back_to_exactly_the_state_before(
    sandbox: Sandbox,
    project: Path,
    tmp_path: Path,
    pipeline: str,
    stage: str,
    standalone: bool,
) -> None:
    layout = Layout(sandbox)
    shift = None
    if standalone:
        shift = {
            "loadBalancer": "ecs-tutorial-alb",
            "listener": layout.listener,
            "listenerRuleArn": layout.dev_rule,
        }
    before = layout.state()
    # the shift's change of its listener rule is refused once, with an error no SDK retries
    layout.env.admin.add_fault(
        "error",
        service="elasticloadbalancing",
        operation="ModifyRule",
        status=403,
        code="AccessDenied",
        count=1,
    )

    execution = layout.run(project, tmp_path, pipeline, layout.inputs(pipeline, stage, shift))

    assert execution["status"] != "Success", execution
    statuses = _statuses(execution)
    assert statuses.get("EcsBlueGreenTrafficShift") == "Failed", statuses
    assert statuses.get("EcsBlueGreenRollback") == "Success", statuses
    assert statuses.get("StandAloneTrafficShiftRollback") == "Success", statuses
    assert differences(before, layout.state()) == []


def _plan(layout: Layout, project: Path, tmp_path: Path, pipeline: str, inputs: dict[str, Any]) -> Any:
    path = tmp_path / "plan-inputs.yaml"
    path.write_text(yaml.safe_dump(inputs), encoding="utf-8")
    network = [
        f"serviceDefinition.spec.variables[{i}].value={v}" for i, v in enumerate(layout.network().values())
    ]
    aws = {
        "AWS_ENDPOINT_URL": layout.env.sandbox.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return corral_cli(
        "plan", pipeline, "--inputs-file", str(path), "--input", network[0], "--input", network[1],
        cwd=project, env=aws,
    )  # fmt: skip


def test_plan_compares_the_service_production_reaches_whatever_its_tag_says(
    sandbox: Sandbox,
    project: Path,
    tmp_path: Path,
) -> None:
    layout = Layout(sandbox)
    layout.env.ecs.tag_resource(  # tags left wrong by hand: the live myapp__1 says GREEN
        resourceArn=layout.env.describe("myapp__1")["serviceArn"],
        tags=[{"key": "BG_VERSION", "value": "GREEN"}],
    )
    live_service(layout.env, "myapp__2", "web:0", layout.groups[1], version="BLUE", desired=0, scaling=False)
    pipeline, stage = "ecs_bluegreen_inherit_example", "ecs_inherit_stage"

    result = _plan(layout, project, tmp_path, pipeline, layout.inputs(pipeline, stage))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "beside the blue one, myapp__1, which is compared here" in result.stdout
    assert "myapp__1 serves production traffic but is tagged BG_VERSION=GREEN" in result.stdout
    assert "-prod rule: example-tg-ip-1 100%, example-tg-ip-2 0%" in result.stdout.splitlines()
    assert "+prod rule: example-tg-ip-1 0%, example-tg-ip-2 100%" in result.stdout.splitlines()


def test_plan_refuses_a_standalone_target_group_the_listener_does_not_forward_to(
    sandbox: Sandbox,
    project: Path,
    tmp_path: Path,
) -> None:
    layout = Layout(sandbox)
    stray = layout.env.elbv2.create_target_group(
        Name="stray", Protocol="HTTP", Port=80, VpcId=layout.env.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    shift = {
        "loadBalancer": "ecs-tutorial-alb",
        "listener": layout.listener,
        "listenerRuleArn": layout.dev_rule,
    }
    inputs = layout.inputs("ecs_bluegreen_sample", "ecstrafficshifting", shift)
    inputs["pipeline"]["stages"][0]["stage"]["variables"][0]["value"] = stray  # stageTargetGroup
    before = layout.state()

    result = _plan(layout, project, tmp_path, "ecs_bluegreen_sample", inputs)

    assert result.returncode != 0
    [line] = [line for line in result.stdout.splitlines() + result.stderr.splitlines() if "stray" in line]
    assert line.startswith("pipelines/ecs_bluegreen_standalone.yaml:")
    assert (
        "pipeline.stages[0].stage.spec.execution.steps[0].stepGroup.steps[1].step.spec.ecsTrafficShiftWrapper"
        ".spec.forwardConfig[0].targetGroupArn: target group " + stray in line
    )
    assert differences(before, layout.state()) == []
