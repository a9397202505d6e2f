"""The provisioning pipeline of the kill points (kill.py): the sandbox demo project plus
`demo_provisioned`, whose stage's `environment.provisioner` runs a CloudFormation Create Stack
(rollback: Rollback Stack) before an ECS Rolling Deploy onto the cluster the stack's outputs name.

The stack `demo-infra` keeps the release's log group, 7 days for release 1 and 14 for release 2:
the first release creates it, the measured one updates it. `stack_state` is what "restored"
compares; a stack updated back reads UPDATE_COMPLETE, as on AWS, and counts as complete.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

PIPELINE = "demo_provisioned"
STACK = "demo-infra"
CLUSTER = "corral-demo"

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  ClusterName:
    Type: String
  Release:
    Type: String
Conditions:
  Second: !Equals [!Ref Release, '2']
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/ecs/${ClusterName}'
      RetentionInDays: !If [Second, 14, 7]
Outputs:
  ClusterName:
    Value: !Ref ClusterName
  Release:
    Value: !Ref Release
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
                "parameterOverrides": [
                    {"name": "ClusterName", "type": "String", "value": CLUSTER},
                    {"name": "Release", "type": "String", "value": "<+pipeline.variables.release>"},
                ],
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
    deploy = {
        "name": "Deploy",
        "identifier": "EcsRollingDeploy",
        "type": "EcsRollingDeploy",
        "timeout": "5m",
        "spec": {},
    }
    undo = {"name": "Undo", "identifier": "EcsRollingRollback", "type": "EcsRollingRollback", "spec": {}}
    stage = {
        "name": "Deploy",
        "identifier": "deploy",
        "type": "Deployment",
        "spec": {
            "deploymentType": "ECS",
            "service": {"serviceRef": "demo_web"},
            "environment": {
                "environmentRef": "provisioned",
                "provisioner": {"steps": [{"step": create}], "rollbackSteps": [{"step": rollback}]},
                "infrastructureDefinitions": [{"identifier": "from_stack"}],
            },
            "execution": {"steps": [{"step": deploy}], "rollbackSteps": [{"step": undo}]},
        },
        "failureStrategies": [{"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}],
    }
    variables = [{"name": "release", "type": "String", "value": "<+input>"}]
    return {
        "pipeline": {
            "name": "Demo provisioned",
            "identifier": PIPELINE,
            "variables": variables,
            "stages": [{"stage": stage}],
        }
    }


def make_project(demo: Path, root: Path) -> Path:
    """A copy of the demo project with the provisioned environment and pipeline."""
    shutil.copytree(demo, root)
    (root / "environments" / "provisioned.yaml").write_text(INFRASTRUCTURE, encoding="utf-8")
    (root / "pipelines" / f"{PIPELINE}.yaml").write_text(yaml.safe_dump(_pipeline()), encoding="utf-8")
    return root


def stack_state(sandbox: Any) -> dict[str, Any]:
    cfn = sandbox.client("cloudformation")
    live = [
        s
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackName"] == STACK and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    logs = sandbox.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"]
    groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs}
    if not live:
        return {"stack": "MISSING", "logGroups": groups}
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    status = stack["StackStatus"]
    return {
        "stack": {
            "id": stack["StackId"],  # made again (not updated), it would have another
            "status": "COMPLETE" if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") else status,
            "parameters": sorted((p["ParameterKey"], p["ParameterValue"]) for p in stack["Parameters"]),
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []},
        },
        "logGroups": groups,
    }


def unreleased(state: dict[str, Any]) -> list[str]:
    """How the stack differs from release 2 (nothing: [])."""
    stack = state["stack"]
    wanted = {
        "stack": {
            "id": stack["id"] if isinstance(stack, dict) else "an id",
            "status": "COMPLETE",
            "parameters": [("ClusterName", CLUSTER), ("Release", "2")],
            "outputs": {"ClusterName": CLUSTER, "Release": "2"},
        },
        "logGroups": {f"/ecs/{CLUSTER}": 14},
    }
    return [] if state == wanted else [f"the stack is {state}, not {wanted}"]


def made_again(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """A stack the release should have updated but deleted and created again (nothing: [])."""
    ids = [s["stack"]["id"] if isinstance(s["stack"], dict) else None for s in (before, after)]
    return [] if ids[0] == ids[1] else [f"the stack was made again: {ids[0]} -> {ids[1]}"]
