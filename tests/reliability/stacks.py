"""The CloudFormation stacks of the provisioning strategies (scenarios.py `ProvisionRun`).

Two stacks, as Create Stack steps leave them before a deployment: `web-shared` exists (a log
group kept 7 days) and the release updates it (14 days); `web-release` is new (a log group and a
target group in the environment's VPC). `stack_state` is what "restored" compares: each stack's
template, parameters, tags and outputs, and the log groups and target groups CloudFormation made.
A stack updated back reads UPDATE_COMPLETE where it read CREATE_COMPLETE, as on AWS: both count
as complete.
"""

from __future__ import annotations

import time
from typing import Any

from corral.provisioners.cloudformation import StackPolling, StackRequest

SHARED, RELEASE = "web-shared", "web-release"
POLLING = StackPolling(first=0.02, growth=1.5, slowest=0.2)

SHARED_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Retention:
    Type: Number
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /corral/shared
      RetentionInDays: !Ref Retention
Outputs:
  LogGroup:
    Value: !Ref Logs
"""

RELEASE_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  VpcId:
    Type: String
  Release:
    Type: String
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/corral/web-${Release}'
  Group:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Port: 80
      Protocol: HTTP
      TargetType: ip
      VpcId: !Ref VpcId
Outputs:
  LogGroup:
    Value: !Ref Logs
  TargetGroup:
    Value: !Ref Group
"""


def _parameters(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def release_requests(vpc_id: str) -> list[StackRequest]:
    """What the release's two Create Stack steps ask for, in order."""
    tags = [{"Key": "team", "Value": "web"}]
    return [
        StackRequest(SHARED, SHARED_TEMPLATE, parameters=_parameters(Retention="14"), tags=tags),
        StackRequest(RELEASE, RELEASE_TEMPLATE, parameters=_parameters(VpcId=vpc_id, Release="2"), tags=tags),
    ]


def create_shared(cfn: Any) -> None:
    """The stack that exists before the release (plain boto3), complete."""
    cfn.create_stack(StackName=SHARED, TemplateBody=SHARED_TEMPLATE, Parameters=_parameters(Retention="7"))
    deadline = time.monotonic() + 30
    while cfn.describe_stacks(StackName=SHARED)["Stacks"][0]["StackStatus"] != "CREATE_COMPLETE":
        if time.monotonic() > deadline:
            raise AssertionError(f"stack {SHARED} was not created")
        time.sleep(0.02)


def stack_state(sandbox: Any) -> dict[str, Any]:
    cfn = sandbox.client("cloudformation")
    found: dict[str, Any] = {}
    for name in (SHARED, RELEASE):
        live = [
            s
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"
        ]
        if not live:
            found[name] = "MISSING"
            continue
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        found[name] = {
            "status": "COMPLETE" if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") else status,
            "parameters": sorted(
                (p["ParameterKey"], p["ParameterValue"]) for p in stack.get("Parameters") or []
            ),
            "tags": stack.get("Tags") or [],
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []},
            "template": cfn.get_template(StackName=name)["TemplateBody"],
        }
    logs = sandbox.client("logs").describe_log_groups(logGroupNamePrefix="/corral/")["logGroups"]
    found["logGroups"] = {g["logGroupName"]: g.get("retentionInDays") for g in logs}
    groups = sandbox.client("elbv2").describe_target_groups()["TargetGroups"]
    found["targetGroups"] = sorted(g["TargetGroupName"] for g in groups)
    return found


def released(state: dict[str, Any]) -> list[str]:
    """How the stacks differ from what the release asked for (nothing: [])."""
    problems = []
    for name, parameter in ((SHARED, ("Retention", "14")), (RELEASE, ("Release", "2"))):
        stack = state[name]
        if stack == "MISSING" or stack["status"] != "COMPLETE" or parameter not in stack["parameters"]:
            problems.append(
                f"stack {name} is {stack if stack == 'MISSING' else stack['status']}, not released"
            )
    if state["logGroups"] != {"/corral/shared": 14, "/corral/web-2": None}:
        problems.append(f"log groups {state['logGroups']}")
    return problems
