"""Infrastructure provisioners end to end: a stage's `environment.provisioner` runs a CloudFormation
CreateStack before the deployment, the infrastructure definition takes its cluster from the stack's
outputs (`<+provisioner.ClusterName>`), and a failed deployment rolls back the service first, then
the stack (RollbackStack), as Harness orders them.

The template makes a CloudWatch Logs group; the ECS cluster its outputs name is the demo's.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from corral.config import load_project
from corral.demo import prepare_sandbox
from corral.engine import run_pipeline
from corral.provisioners.cloudformation import StackPolling
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.cloudformation_steps import set_stack_polling
from corral.wiring.ecs_steps import set_poll_policy

from .conftest import CLUSTER, DEMO, FAST_POLLS, fast_options, use_sandbox_aws
from .state import journal_order, services

STACK = "demo-infra"
TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  ClusterName:
    Type: String
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/ecs/${ClusterName}'
Outputs:
  ClusterName:
    Value: !Ref ClusterName
  LogGroup:
    Value: !Ref Logs
"""
INFRASTRUCTURE = """\
environment:
  name: Provisioned
  identifier: provisioned
  type: PreProduction
---
infrastructureDefinition:
  name: From a stack
  identifier: from_stack
  environmentRef: provisioned
  deploymentType: ECS
  type: ECS
  spec:
    connectorRef: sandbox_aws
    region: us-east-1
    cluster: <+provisioner.ClusterName>
    provisioner: demo_infra
    networkConfiguration:
      subnets:
        - <+input>
      securityGroups:
        - <+input>
      assignPublicIp: DISABLED
"""


def _remote(pipeline: dict[str, Any]) -> dict[str, Any]:
    """The pipeline with the template and a parameters file in the Harness file store."""
    stage = pipeline["pipeline"]["stages"][0]["stage"]
    create = stage["spec"]["environment"]["provisioner"]["steps"][0]["step"]
    config = create["spec"]["configuration"]
    store = {"type": "Harness", "spec": {"files": ["account:/cfn/infra.yaml"]}}
    config["templateFile"] = {"type": "Remote", "spec": {"store": store}}
    params = {"type": "Harness", "spec": {"files": ["account:/cfn/params.json"]}}
    config["parameters"] = [{"identifier": "common", "store": params}]
    del config["parameterOverrides"]  # ClusterName comes from the file
    return {"pipeline": {**pipeline["pipeline"], "identifier": "remote"}}


def _pipeline() -> dict[str, Any]:
    create = {
        "name": "Create stack",
        "identifier": "create_stack",
        "type": "CreateStack",
        "timeout": "5m",
        "spec": {
            "provisionerIdentifier": "demo_infra",
            "configuration": {
                "stackName": STACK,
                "connectorRef": "sandbox_aws",
                "region": "us-east-1",
                "templateFile": {"type": "Inline", "spec": {"templateBody": TEMPLATE}},
                "parameterOverrides": [{"name": "ClusterName", "type": "String", "value": CLUSTER}],
                "tags": {"type": "Inline", "spec": {"content": '[{"key": "team", "value": "web"}]'}},
                "capabilities": ["CAPABILITY_IAM"],
            },
        },
    }
    rollback = {
        "name": "Rollback stack",
        "identifier": "rollback_stack",
        "type": "RollbackStack",
        "timeout": "5m",
        "spec": {"configuration": {"provisionerIdentifier": "demo_infra"}},
    }
    show = {
        "name": "Show outputs",
        "identifier": "show",
        "type": "ShellScript",
        "spec": {
            "shell": "Bash",
            "source": {
                "type": "Inline",
                "spec": {"script": 'LOGS="<+stage.spec.provisioner.steps.create_stack.output.LogGroup>"'},
            },
            "outputVariables": [{"name": "logs", "type": "String", "value": "LOGS"}],
        },
    }
    deploy = {"name": "Deploy", "identifier": "EcsRollingDeploy", "type": "EcsRollingDeploy", "spec": {}}
    undo = {"name": "Undo", "identifier": "EcsRollingRollback", "type": "EcsRollingRollback", "spec": {}}
    return {
        "pipeline": {
            "name": "Provisioned",
            "identifier": "provisioned",
            "stages": [
                {
                    "stage": {
                        "name": "Deploy",
                        "identifier": "deploy",
                        "type": "Deployment",
                        "spec": {
                            "deploymentType": "ECS",
                            "service": {"serviceRef": "demo_web"},
                            "environment": {
                                "environmentRef": "provisioned",
                                "provisioner": {
                                    "steps": [{"step": create}],
                                    "rollbackSteps": [{"step": rollback}],
                                },
                                "infrastructureDefinitions": [{"identifier": "from_stack"}],
                            },
                            "execution": {
                                "steps": [{"step": show}, {"step": deploy}],
                                "rollbackSteps": [{"step": undo}],
                            },
                        },
                        "failureStrategies": [
                            {"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}
                        ],
                    }
                }
            ],
        }
    }


SCRIPTED_INFRASTRUCTURE = """\
environment:
  name: Scripted
  identifier: scripted
  type: PreProduction
---
infrastructureDefinition:
  name: From a script
  identifier: from_script
  environmentRef: scripted
  deploymentType: ECS
  type: ECS
  spec:
    connectorRef: sandbox_aws
    region: <+provisioner.region>
    cluster: <+provisioner.cluster>
    provisioner: make
    networkConfiguration:
      subnets:
        - <+input>
      securityGroups:
        - <+input>
      assignPublicIp: DISABLED
"""
# what the provisioner script writes, by the run-time input `mode`
SCRIPT = f"""case "<+pipeline.variables.mode>" in
  ok) echo '{{"region": "us-east-1", "cluster": "{CLUSTER}"}}' > "$PROVISIONER_OUTPUT_PATH" ;;
  no-cluster) echo '{{"region": "us-east-1"}}' > "$PROVISIONER_OUTPUT_PATH" ;;
  expression) printf '{{"region": "us-east-1", "cluster": "%s+env.name>"}}' '<' > "$PROVISIONER_OUTPUT_PATH" ;;
  *) echo "cannot provision"; exit 3 ;;
esac
"""


def _scripted_pipeline() -> dict[str, Any]:
    pipeline = _pipeline()["pipeline"]
    stage = pipeline["stages"][0]["stage"]
    make = {
        "name": "Make",
        "identifier": "make",
        "type": "ShellScriptProvision",
        "spec": {"source": {"type": "Inline", "spec": {"script": SCRIPT}}},
    }
    unmake = {
        "name": "Unmake",
        "identifier": "unmake",
        "type": "ShellScript",
        "spec": {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": "echo undone"}}},
    }
    stage["spec"]["environment"] = {
        "environmentRef": "scripted",
        "infrastructureDefinitions": [{"identifier": "from_script"}],
        "provisioner": {"steps": [{"step": make}], "rollbackSteps": [{"step": unmake}]},
    }
    steps = stage["spec"]["execution"]["steps"]
    stage["spec"]["execution"]["steps"] = [s for s in steps if s["step"]["identifier"] != "show"]
    variables = [{"name": "mode", "type": "String", "value": "<+input>"}]
    return {"pipeline": {**pipeline, "identifier": "scripted", "variables": variables}}


class Run:
    def __init__(self, sandbox: Sandbox, root: Path, store: Store, prepared: dict[str, Any]) -> None:
        self.sandbox, self.root, self.store, self.prepared = sandbox, root, store, prepared

    def __call__(self, pipeline: str = "provisioned", **inputs: Any) -> Any:
        given = {
            "subnets[0]": self.prepared["subnets[0]"],
            "securityGroups[0]": self.prepared["securityGroups[0]"],
        }
        return run_pipeline(
            load_project(self.root),
            pipeline,
            inputs=given | inputs,
            store=self.store,
            options=fast_options(),
        )


@pytest.fixture
def run(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    root = tmp_path / "project"
    shutil.copytree(DEMO, root)
    (root / "environments" / "provisioned.yaml").write_text(INFRASTRUCTURE, encoding="utf-8")
    (root / "pipelines" / "provisioned.yaml").write_text(yaml.safe_dump(_pipeline()), encoding="utf-8")
    (root / "pipelines" / "remote.yaml").write_text(yaml.safe_dump(_remote(_pipeline())), encoding="utf-8")
    (root / "files" / "account" / "cfn").mkdir(parents=True)
    (root / "files" / "account" / "cfn" / "infra.yaml").write_text(TEMPLATE, encoding="utf-8")
    params = f'[{{"ParameterKey": "ClusterName", "ParameterValue": "{CLUSTER}"}}]'
    (root / "files" / "account" / "cfn" / "params.json").write_text(params, encoding="utf-8")
    (root / "environments" / "scripted.yaml").write_text(SCRIPTED_INFRASTRUCTURE, encoding="utf-8")
    (root / "pipelines" / "scripted.yaml").write_text(yaml.safe_dump(_scripted_pipeline()), encoding="utf-8")
    # moto's services (CloudWatch Logs, which the stack's log group lands in) live in this process
    # and outlive each test's sandbox: start empty
    sandbox.app.reset()
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    set_poll_policy(FAST_POLLS)
    set_stack_polling(StackPolling(first=0.05, growth=1.5, slowest=0.3))
    store = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
    try:
        yield Run(sandbox, root, store, prepare_sandbox(sandbox.endpoint_url))
    finally:
        set_poll_policy(None)
        set_stack_polling(None)
        store.close()


def _stack(sandbox: Sandbox) -> dict[str, Any] | None:
    stacks = [
        s for s in sandbox.client("cloudformation").list_stacks()["StackSummaries"] if s["StackName"] == STACK
    ]
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    if not live:
        return None
    return sandbox.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]


def test_the_stack_is_made_first_and_its_outputs_choose_the_cluster(run: Run) -> None:
    execution = run(tag="1")
    assert execution.status == "Success", execution.error
    assert journal_order(run.store, execution.id) == ["create_stack", "show", "EcsRollingDeploy"]
    assert execution.step("create_stack").outputs == {"ClusterName": CLUSTER, "LogGroup": f"/ecs/{CLUSTER}"}
    assert execution.step("show").outputs == {"logs": f"/ecs/{CLUSTER}"}  # <+stage.spec.provisioner.steps...>
    stack = _stack(run.sandbox)
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Tags"] == [{"Key": "team", "Value": "web"}]
    assert stack["Parameters"] == [{"ParameterKey": "ClusterName", "ParameterValue": CLUSTER}]
    live = services(run.sandbox.client("ecs"))
    assert list(live) == ["demo-web"] and live["demo-web"]["desiredCount"] == 2


def test_a_failed_deployment_rolls_back_the_service_then_removes_the_new_stack(run: Run) -> None:
    run.sandbox.admin.set_images({"image": "*:broken", "pullFailure": "manifest unknown"})
    failed = run(tag="broken")
    assert failed.status == "Failed"
    assert journal_order(run.store, failed.id) == [
        "create_stack",
        "show",
        "EcsRollingDeploy",
        "EcsRollingRollback",  # the deployment's rollback first
        "rollback_stack",  # then the provisioner's
    ]
    assert failed.step("rollback_stack").status == "Success"
    assert failed.step("rollback_stack").outputs["result"] == "deleted"
    assert _stack(run.sandbox) is None  # the stack this execution made is gone
    assert services(run.sandbox.client("ecs")) == {}


def test_a_failed_deployment_puts_an_existing_stack_back_as_it_was(run: Run) -> None:
    cfn = run.sandbox.client("cloudformation")
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "ClusterName", "ParameterValue": "before"}],
        Tags=[{"Key": "team", "Value": "old"}],
    )
    before = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    run.sandbox.admin.set_images({"image": "*:broken", "pullFailure": "manifest unknown"})
    failed = run(tag="broken")
    assert failed.status == "Failed"
    assert failed.step("create_stack").status == "Success"  # updated: ClusterName is the demo's
    assert failed.step("create_stack").outputs["ClusterName"] == CLUSTER
    assert failed.step("rollback_stack").outputs["result"] == "updated"
    after = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert after["StackId"] == before["StackId"]
    assert after["Parameters"] == [{"ParameterKey": "ClusterName", "ParameterValue": "before"}]
    assert after["Tags"] == [{"Key": "team", "Value": "old"}]
    assert {o["OutputKey"]: o["OutputValue"] for o in after["Outputs"]}["ClusterName"] == "before"


def test_a_script_provisioner_chooses_region_and_cluster(run: Run) -> None:
    execution = run("scripted", tag="1", mode="ok")
    assert execution.status == "Success", execution.error
    assert journal_order(run.store, execution.id) == ["make", "EcsRollingDeploy"]
    assert list(services(run.sandbox.client("ecs"))) == ["demo-web"]


def test_an_output_the_infrastructure_needs_and_the_script_did_not_give_stops_before_deploying(
    run: Run,
) -> None:
    failed = run("scripted", tag="1", mode="no-cluster")
    assert failed.status == "Failed"
    error = failed.error or ""
    assert "<+provisioner.cluster>: the provisioner 'make' gave no such output (its outputs: region)" in error
    assert "infrastructureDefinition.spec.cluster" in error
    # nothing was deployed; what the provisioner did is undone
    assert journal_order(run.store, failed.id) == ["make", "unmake"]
    assert services(run.sandbox.client("ecs")) == {}


def test_a_failing_provisioner_skips_the_deployment_and_runs_the_provisioner_rollback(run: Run) -> None:
    failed = run("scripted", tag="1", mode="broken")
    assert failed.status == "Failed"
    assert failed.step("make").status == "Failed"
    assert "exited with code 3" in (failed.step("make").error or "")
    assert journal_order(run.store, failed.id) == ["make", "unmake"]
    assert services(run.sandbox.client("ecs")) == {}


def test_a_template_and_parameters_file_from_the_file_store(run: Run) -> None:
    execution = run("remote", tag="1")
    assert execution.status == "Success", execution.error
    stack = _stack(run.sandbox)
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
    # the parameters file gave ClusterName, and the infrastructure its cluster
    assert stack["Parameters"] == [{"ParameterKey": "ClusterName", "ParameterValue": CLUSTER}]
    body = run.sandbox.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    assert "AWS::Logs::LogGroup" in (body if isinstance(body, str) else str(body))


def test_ad_hoc_a_stack_from_an_s3_url_is_created_then_deleted_by_its_provisioner_identifier(
    run: Run, tmp_path: Path
) -> None:
    s3 = run.sandbox.client("s3")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="infra.yaml", Body=TEMPLATE.encode())
    create = _pipeline()["pipeline"]["stages"][0]["stage"]["spec"]["environment"]["provisioner"]["steps"][0]
    config = create["step"]["spec"]["configuration"]
    config["templateFile"] = {
        "type": "S3URL",
        "spec": {"templateUrl": "https://templates.s3.amazonaws.com/infra.yaml"},
    }
    delete = {
        "name": "Delete",
        "identifier": "delete_stack",
        "type": "DeleteStack",
        "spec": {"provisionerIdentifier": "demo_infra", "configuration": {"type": "Inherited"}},
    }
    stage = {
        "name": "Ad hoc",
        "identifier": "adhoc",
        "type": "Custom",
        "spec": {"execution": {"steps": [create, {"step": delete}]}},
    }
    pipeline = {"pipeline": {"name": "Ad hoc", "identifier": "adhoc", "stages": [{"stage": stage}]}}
    (run.root / "pipelines" / "adhoc.yaml").write_text(yaml.safe_dump(pipeline), encoding="utf-8")
    store = Store.open(f"sqlite:///{tmp_path / 'adhoc.db'}")
    try:
        done = run_pipeline(load_project(run.root), "adhoc", store=store, options=fast_options())
    finally:
        store.close()
    assert done.status == "Success", done.error
    assert done.step("create_stack").outputs["ClusterName"] == CLUSTER
    assert done.step("delete_stack").outputs == {"stackName": STACK, "deleted": True}
    assert _stack(run.sandbox) is None


def test_an_output_holding_an_expression_is_refused_as_the_infrastructure_s_value(run: Run) -> None:
    failed = run("scripted", tag="1", mode="expression")
    assert failed.status == "Failed"
    assert failed.step("make").outputs["cluster"] == "<+env.name>"  # as the script wrote it
    assert "provisioner outputs are data, never expressions" in (failed.error or "")
    assert journal_order(run.store, failed.id) == ["make", "unmake"]
    assert services(run.sandbox.client("ecs")) == {}


@pytest.mark.parametrize("operation", ["DescribeStacks", "CreateStack", "DescribeStackEvents"])
@pytest.mark.parametrize(
    "fault", [{"kind": "throttle", "count": 3}, {"kind": "error", "status": 503, "count": 2}]
)
def test_passing_faults_on_each_cloudformation_call_are_retried(
    run: Run, operation: str, fault: dict[str, Any]
) -> None:
    run.sandbox.admin.add_fault(service="cloudformation", operation=operation, **fault)
    execution = run(tag="1")
    assert execution.status == "Success", execution.error
    stack = _stack(run.sandbox)
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"


def test_a_create_stack_refused_by_cloudformation_fails_before_deploying(run: Run) -> None:
    # refused as CloudFormation refuses a bad request (a ValidationError is not retried; the
    # default InternalFailure would be, until the step's time-out)
    run.sandbox.admin.add_fault(
        kind="error", status=400, code="ValidationError", service="cloudformation", operation="CreateStack"
    )
    failed = run(tag="1")
    assert failed.status == "Failed"
    assert failed.step("create_stack").status == "Failed"
    # nothing deployed; RollbackStack finds no stack to remove
    assert journal_order(run.store, failed.id) == ["create_stack", "rollback_stack"]
    assert failed.step("rollback_stack").outputs["result"] == "absent"
    assert _stack(run.sandbox) is None and services(run.sandbox.client("ecs")) == {}
