"""A stage whose CloudFormation stack makes the VPC, subnets, security group, ECS cluster, load
balancer, target groups and listeners, and whose Blue Green deployment goes onto them; the
deployment fails, and the Blue Green rollback then RollbackStack leave the account as before
(no stack, no service).

The sandbox serves CloudFormation in its own backends: a stack's cluster and load balancer are
the ones ECS and ELBv2 answer for.
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

from .conftest import DEMO, FAST_POLLS, fast_options, use_sandbox_aws
from .state import journal_order

STACK = "bg-infra"
CLUSTER = "bg-from-stack"
# AWS resource types and attributes as the CloudFormation template reference documents them
TEMPLATE = f"""AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {{CidrBlock: 10.20.0.0/16}}
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties: {{VpcId: !Ref Vpc, CidrBlock: 10.20.1.0/24, AvailabilityZone: us-east-1a}}
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties: {{VpcId: !Ref Vpc, CidrBlock: 10.20.2.0/24, AvailabilityZone: us-east-1b}}
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties: {{GroupDescription: web, VpcId: !Ref Vpc}}
  Cluster:
    Type: AWS::ECS::Cluster
    Properties: {{ClusterName: {CLUSTER}}}
  Balancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {{Name: bg-from-stack, Subnets: [!Ref SubnetA, !Ref SubnetB], SecurityGroups: [!Ref Group]}}
  Blue:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {{Name: bg-stack-blue, Port: 80, Protocol: HTTP, VpcId: !Ref Vpc, TargetType: ip}}
  Green:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {{Name: bg-stack-green, Port: 80, Protocol: HTTP, VpcId: !Ref Vpc, TargetType: ip}}
  Prod:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Balancer
      Port: 80
      Protocol: HTTP
      DefaultActions: [{{Type: forward, TargetGroupArn: !Ref Blue}}]
  Stage:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Balancer
      Port: 8080
      Protocol: HTTP
      DefaultActions: [{{Type: forward, TargetGroupArn: !Ref Green}}]
Outputs:
  ClusterName: {{Value: !Ref Cluster}}
  LoadBalancer: {{Value: !GetAtt Balancer.LoadBalancerName}}
  ProdListener: {{Value: !Ref Prod}}
  StageListener: {{Value: !Ref Stage}}
  Subnet: {{Value: !Ref SubnetA}}
  SecurityGroup: {{Value: !GetAtt Group.GroupId}}
"""
INFRASTRUCTURE = """\
environment:
  name: Stacked
  identifier: stacked
  type: PreProduction
---
infrastructureDefinition:
  name: From a stack
  identifier: from_stack
  environmentRef: stacked
  deploymentType: ECS
  type: ECS
  spec:
    connectorRef: sandbox_aws
    region: us-east-1
    cluster: <+provisioner.ClusterName>
    provisioner: bg_infra
    networkConfiguration:
      subnets:
        - <+provisioner.Subnet>
      securityGroups:
        - <+provisioner.SecurityGroup>
      assignPublicIp: DISABLED
"""
OUTPUT = "<+stage.spec.provisioner.steps.create_stack.output.{}>"


def _pipeline() -> dict[str, Any]:
    create = {
        "name": "Create stack",
        "identifier": "create_stack",
        "type": "CreateStack",
        "spec": {
            "provisionerIdentifier": "bg_infra",
            "configuration": {
                "stackName": STACK,
                "connectorRef": "sandbox_aws",
                "region": "us-east-1",
                "templateFile": {"type": "Inline", "spec": {"templateBody": TEMPLATE}},
            },
        },
    }
    rollback = {
        "name": "Rollback stack",
        "identifier": "rollback_stack",
        "type": "RollbackStack",
        "spec": {"configuration": {"provisionerIdentifier": "bg_infra"}},
    }
    blue_green = {
        "name": "Create service",
        "identifier": "EcsBlueGreenCreateService",
        "type": "EcsBlueGreenCreateService",
        "timeout": "5m",
        "spec": {
            "loadBalancer": OUTPUT.format("LoadBalancer"),
            "prodListener": OUTPUT.format("ProdListener"),
            "prodListenerRuleArn": "",
            "stageListener": OUTPUT.format("StageListener"),
            "stageListenerRuleArn": "",
        },
    }
    undo = {"name": "Undo", "identifier": "EcsBlueGreenRollback", "type": "EcsBlueGreenRollback", "spec": {}}
    stage = {
        "name": "Deploy",
        "identifier": "deploy",
        "type": "Deployment",
        "spec": {
            "deploymentType": "ECS",
            "service": {"serviceRef": "demo_bg"},
            "environment": {
                "environmentRef": "stacked",
                "provisioner": {"steps": [{"step": create}], "rollbackSteps": [{"step": rollback}]},
                "infrastructureDefinitions": [{"identifier": "from_stack"}],
            },
            "execution": {"steps": [{"step": blue_green}], "rollbackSteps": [{"step": undo}]},
        },
        "failureStrategies": [{"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}],
    }
    return {"pipeline": {"name": "Stacked", "identifier": "stacked", "stages": [{"stage": stage}]}}


@pytest.fixture
def project(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    sandbox.app.reset()  # moto's services (EC2 here) live in this process and outlive each sandbox
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    set_poll_policy(FAST_POLLS)
    set_stack_polling(StackPolling(first=0.05, growth=1.5, slowest=0.3))
    root = tmp_path / "project"
    shutil.copytree(DEMO, root)
    (root / "environments" / "stacked.yaml").write_text(INFRASTRUCTURE, encoding="utf-8")
    (root / "pipelines" / "stacked.yaml").write_text(yaml.safe_dump(_pipeline()), encoding="utf-8")
    prepare_sandbox(sandbox.endpoint_url)  # the demo's registry images and roles
    try:
        yield root
    finally:
        set_poll_policy(None)
        set_stack_polling(None)


def test_a_failed_blue_green_onto_a_stack_s_load_balancer_leaves_no_stack_and_no_service(
    sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    sandbox.admin.set_images({"image": "*:broken", "pullFailure": "manifest unknown"})
    store = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
    try:
        failed = run_pipeline(
            load_project(project), "stacked", inputs={"tag": "broken"}, store=store, options=fast_options()
        )
        order = journal_order(store, failed.id)
    finally:
        store.close()
    assert failed.status == "Failed"
    assert order == ["create_stack", "EcsBlueGreenCreateService", "EcsBlueGreenRollback", "rollback_stack"]
    cfn = sandbox.client("cloudformation")
    assert [s for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"] == []
    clusters = sandbox.client("ecs").describe_clusters(clusters=[CLUSTER])["clusters"]
    assert all(c["status"] != "ACTIVE" for c in clusters)  # the stack's cluster went with it
    balancers = sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert "bg-from-stack" not in [b["LoadBalancerName"] for b in balancers]
