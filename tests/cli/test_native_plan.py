"""ECS-native strategies through the CLI (issue 16 item 4): `corral validate` applies ECS's rules
to the service definition, `corral render` and `corral plan` show the strategy's phases and an
estimate of its duration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from corral.demo import prepare_sandbox
from corral.sandbox import Sandbox

from .helpers import corral

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
ACCOUNT = "123456789012"
RULE = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener-rule/app/demo/50dc6c495c0c9188"
TARGET_GROUP = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup"
LINEAR = {
    "strategy": "LINEAR",
    "bakeTimeInMinutes": 15,
    "linearConfiguration": {"stepPercent": 20, "stepBakeTimeInMinutes": 3},
    "lifecycleHooks": [
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
        }
    ],
}
LOAD_BALANCER = {
    "targetGroupArn": f"{TARGET_GROUP}/demo-blue/73e2d6bc24d8a067",
    "containerName": "app",
    "containerPort": 80,
    "advancedConfiguration": {
        "alternateTargetGroupArn": f"{TARGET_GROUP}/demo-green/2453ed029918f21f",
        "productionListenerRule": f"{RULE}/f2f7dc8efc522ab2/9683b2d02a6cabee",
        "testListenerRule": f"{RULE}/a1b2c3d4e5f60718/1683b2d02a6cabee",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers",
    },
}
PHASES = (
    "scale up green (2 tasks) → test traffic (test listener rule → green) → "
    "[PAUSE hook at POST_TEST_TRAFFIC_SHIFT, times out after 1 h: ROLLBACK] → production 20% → bake 3 min → "
    "40% → bake 3 min → 60% → bake 3 min → 80% → bake 3 min → 100% → bake 15 min → clean up blue"
)
# task start 1 + target group health checks 2.5 + 4 step bakes of 3 + bake 15 + deregistration 5
ESTIMATE = (
    "about 35.5 min (task start 1 min + health checks 2.5 min + traffic step bakes 12 min + bake 15 min "
    "+ clean up 5 min); up to 1 h 36 min if every PAUSE hook waits until it times out"
)


def native_demo(tmp_path: Path, deployment: dict[str, Any], **service: Any) -> Path:
    """The sandbox demo with its web service on an ECS-native strategy. Its Basic and Canary
    pipelines deploy that service with steps that make services of their own, which validate
    refuses for a native strategy (tests/config/test_native_stage_steps.py): left out."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project)
    for harness_own_services in ("basic.yaml", "canary.yaml"):
        (project / "pipelines" / harness_own_services).unlink()
    path = project / "files" / "account" / "web" / "CreateServiceRequest.yaml"
    definition = yaml.safe_load(path.read_text())
    definition["deploymentController"] = {"type": "ECS"}
    definition["deploymentConfiguration"] = deployment
    definition.update(service)
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    return project


def test_validate_applies_ecs_rules_for_native_strategies(tmp_path: Path) -> None:
    project = native_demo(tmp_path, LINEAR, loadBalancers=[LOAD_BALANCER])
    ok = corral("validate", "--project", str(project), "--offline")
    assert ok.exit_code == 0, ok.output

    broken = native_demo(
        tmp_path / "broken",
        {**LINEAR, "linearConfiguration": {"stepPercent": 2}},
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{k: v for k, v in LOAD_BALANCER.items() if k != "advancedConfiguration"}],
    )
    result = corral("validate", "--project", str(broken), "--offline")
    assert result.exit_code == 1, result.output
    where = "files/account/web/CreateServiceRequest.yaml"
    for line in (
        f"{where}: deploymentConfiguration.strategy: strategy LINEAR needs the ECS deployment controller; "
        "deploymentController.type is CODE_DEPLOY",
        f"{where}: deploymentConfiguration.linearConfiguration.stepPercent: expected a multiple of 0.1 from "
        "3.0 to 100.0; got 2.0",
        f"{where}: loadBalancers[0]: strategy LINEAR needs advancedConfiguration on every load balancer",
    ):
        assert line in result.output, result.output


def test_render_shows_the_phases_and_the_estimate(tmp_path: Path) -> None:
    project = native_demo(tmp_path, LINEAR, loadBalancers=[LOAD_BALANCER])
    args = ["render", "--service", "demo_web", "--env", "sandbox", "--infra", "sandbox", "--format", "json"]
    result = corral(*args, "--project", str(project))
    assert result.exit_code == 0, result.output
    native = json.loads(result.output)["nativeDeployment"]
    assert native["strategy"] == "LINEAR"
    assert native["phases"] == PHASES
    assert native["estimate"]["minutes"] == 35.5
    assert native["estimate"]["longestMinutes"] == 95.5
    assert "tasks start in about 1 min" in native["estimate"]["assumes"]
    assert [step["stage"] for step in native["lifecycle"]][:3] == [
        "SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
    ]

    # a rolling service renders as before: no such section
    rolling = corral(*args, "--project", str(DEMO))
    assert rolling.exit_code == 0, rolling.output
    assert "nativeDeployment" not in json.loads(rolling.output), rolling.output


def live_load_balancer(sandbox: Sandbox) -> dict[str, Any]:
    """The demo's load balancer with a production rule (prod listener -> prod target group) and a
    test rule (stage listener -> stage target group), as ECS blue/green wants them."""
    prepared = prepare_sandbox(sandbox.endpoint_url)
    elb = sandbox.client("elbv2")
    rules = {}
    for name, listener, group in (
        ("production", prepared["prodListener"], prepared["prodTargetGroupArn"]),
        ("test", prepared["stageListener"], prepared["stageTargetGroupArn"]),
    ):
        rules[name] = elb.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Rules"][0]["RuleArn"]
    return {
        **LOAD_BALANCER,
        "targetGroupArn": prepared["prodTargetGroupArn"],
        "advancedConfiguration": {
            **LOAD_BALANCER["advancedConfiguration"],
            "alternateTargetGroupArn": prepared["stageTargetGroupArn"],
            "productionListenerRule": rules["production"],
            "testListenerRule": rules["test"],
        },
    }


def test_plan_shows_the_phases_and_the_estimate(sandbox: Sandbox, aws: list[str], tmp_path: Path) -> None:
    project = native_demo(tmp_path, LINEAR, loadBalancers=[live_load_balancer(sandbox)])
    planned = corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1")
    assert planned.exit_code == 0, planned.output
    lines = planned.output.splitlines()
    assert "stage deploy: service demo-web in cluster corral-demo: new service" in lines
    assert f"  ECS LINEAR deployment: {PHASES}" in lines
    assert f"  estimate: {ESTIMATE}" in lines
    [assumes] = [line for line in lines if line.startswith("  (assumes ")]
    assert "tasks start in about 1 min; targets pass the target group's default health checks" in assumes
    # docs/configuration.md shows this very plan
    documented = (DEMO.parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines()
    assert {f"  ECS LINEAR deployment: {PHASES}", f"  estimate: {ESTIMATE}", assumes} <= set(documented)

    as_json = corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1", "--json")
    assert as_json.exit_code == 0, as_json.output
    [stage] = json.loads(as_json.output)
    assert stage["nativeDeployment"]["phases"] == PHASES

    rolling = corral("plan", "demo_rolling", "--project", str(DEMO), *aws, "--input", "tag=1", "--json")
    assert json.loads(rolling.output)[0]["nativeDeployment"] is None


def test_plan_checks_the_rules_and_target_groups_with_aws(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    balancer = live_load_balancer(sandbox)
    advanced = balancer["advancedConfiguration"]
    elb = sandbox.client("elbv2")
    ec2 = sandbox.client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
    other = elb.create_load_balancer(Name="other", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elsewhere = elb.create_target_group(
        Name="elsewhere", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=other,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": elsewhere}],
    )
    gone = advanced["testListenerRule"][:-4] + "0000"
    advanced.update(alternateTargetGroupArn=elsewhere, testListenerRule=gone)
    project = native_demo(tmp_path, LINEAR, loadBalancers=[balancer])
    planned = corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1")
    assert planned.exit_code == 2, planned.output  # invalid input, as for every plan problem
    where = "files/account/web/CreateServiceRequest.yaml: loadBalancers[0].advancedConfiguration"
    assert f"{where}.testListenerRule: no such listener rule in the account ({gone})" in planned.output
    production_lb = advanced["productionListenerRule"].replace(":listener-rule/", ":loadbalancer/")
    production_lb = production_lb.rsplit("/", 2)[0]
    assert (
        f"{where}.alternateTargetGroupArn: target group elsewhere is on load balancer {other}, "
        f"not on {production_lb} where the listener rules are"
    ) in planned.output
