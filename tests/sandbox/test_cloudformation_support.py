"""Shared set-up for the CloudFormation sandbox tests (named test_cloudformation_* to sit with them;
holds no tests): an ECS environment template and checks that a stack's resources exist or not."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until

# An ECS environment as a CloudFormation template: VPC, two subnets, a security group with an
# ingress rule, internet gateway and route, ECS cluster, ALB with a listener and two target groups
# (blue and green), a log group, a task execution role, a Cloud Map namespace and service.
ECS_ENVIRONMENT = """
AWSTemplateFormatVersion: 2010-09-09
Description: ECS environment for blue green
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  VpcCidr:
    Type: String
    Default: 10.20.0.0/16
  ListenerPort:
    Type: Number
    Default: 80
  DbPassword:
    Type: String
    NoEcho: true
    Default: not-shown
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref VpcCidr
      EnableDnsSupport: true
      EnableDnsHostnames: true
      Tags: [{Key: Name, Value: !Sub "${AWS::StackName}-vpc"}]
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [0, !GetAZs ""]
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [1, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [1, !GetAZs ""]
  Gateway:
    Type: AWS::EC2::InternetGateway
  GatewayAttachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Gateway}
  Routes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  DefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: GatewayAttachment
    Properties: {RouteTableId: !Ref Routes, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Gateway}
  SubnetARoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref SubnetA, RouteTableId: !Ref Routes}
  WebSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web traffic
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: !Ref ListenerPort, ToPort: !Ref ListenerPort, CidrIp: 0.0.0.0/0}
  TaskIngress:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !GetAtt WebSecurityGroup.GroupId
      IpProtocol: tcp
      FromPort: 8080
      ToPort: 8080
      SourceSecurityGroupId: !Ref WebSecurityGroup
  Cluster:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterName: !Sub "${AWS::StackName}-${Env}"
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !If [IsProd, 90, 7]
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: "sts:AssumeRole"}
  LoadBalancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Type: application
      Subnets: [!Ref SubnetA, !Ref SubnetB]
      SecurityGroups: [!GetAtt WebSecurityGroup.GroupId]
  Blue:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Port: 80
      Protocol: HTTP
      TargetType: ip
      VpcId: !Ref Vpc
      HealthCheckPath: /health
      TargetGroupAttributes: [{Key: deregistration_delay.timeout_seconds, Value: 5}]
  Green:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties: {Port: 80, Protocol: HTTP, TargetType: ip, VpcId: !Ref Vpc}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LoadBalancer
      Port: !Ref ListenerPort
      Protocol: HTTP
      DefaultActions:
        - Type: forward
          ForwardConfig:
            TargetGroups: [{TargetGroupArn: !Ref Blue, Weight: 100}, {TargetGroupArn: !Ref Green, Weight: 0}]
  Namespace:
    Type: AWS::ServiceDiscovery::PrivateDnsNamespace
    Properties: {Name: !Sub "${AWS::StackName}.local", Vpc: !Ref Vpc}
  Discovery:
    Type: AWS::ServiceDiscovery::Service
    Properties:
      Name: web
      NamespaceId: !Ref Namespace
      DnsConfig: {DnsRecords: [{Type: A, TTL: 10}], RoutingPolicy: MULTIVALUE}
      HealthCheckCustomConfig: {FailureThreshold: 1}
Outputs:
  ClusterName:
    Value: !Ref Cluster
    Export: {Name: !Sub "${AWS::StackName}-cluster"}
  ClusterArn: {Value: !GetAtt Cluster.Arn}
  Subnets: {Value: !Join [",", [!Ref SubnetA, !Ref SubnetB]]}
  SecurityGroup: {Value: !GetAtt WebSecurityGroup.GroupId}
  LoadBalancerArn: {Value: !Ref LoadBalancer}
  LoadBalancerDns: {Value: !GetAtt LoadBalancer.DNSName}
  ListenerArn: {Value: !Ref Listener}
  BlueTargetGroup: {Value: !Ref Blue}
  GreenTargetGroup: {Value: !Ref Green}
  LogGroup: {Value: !Ref Logs}
  ExecutionRoleArn: {Value: !GetAtt ExecutionRole.Arn}
  DiscoveryArn: {Value: !GetAtt Discovery.Arn}
"""

# the statuses a stack rests in (boto3's waiters end on these)
SETTLED = {
    "CREATE_COMPLETE",
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
}


def settle(cfn: Any, stack_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
    """The stack once it rests (by stack ID, which also finds a deleted stack)."""

    def rested() -> dict[str, Any] | None:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        return stack if stack["StackStatus"] in SETTLED else None

    return wait_until(rested, timeout=timeout, message=f"stack {stack_id} to settle")


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def events(cfn: Any, stack_id: str) -> list[tuple[str, str, str | None]]:
    """(logical id, status, reason) in the order they happened."""
    rows = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in reversed(rows)
    ]


def physical_ids(cfn: Any, stack_id: str) -> dict[str, tuple[str, str]]:
    """logical id -> (type, physical id) of every resource the stack made, from its events."""
    found: dict[str, tuple[str, str]] = {}
    for event in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]:
        if event.get("PhysicalResourceId") and event["ResourceType"] != "AWS::CloudFormation::Stack":
            found[event["LogicalResourceId"]] = (event["ResourceType"], event["PhysicalResourceId"])
    return found


def _missing(call: Any, *codes: str) -> bool:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"] in codes
    return False


def exists(sandbox: Sandbox, kind: str, physical_id: str) -> bool:
    """Whether the resource is still in the backend that serves its API."""
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    checks: dict[str, Any] = {
        "AWS::EC2::VPC": lambda: (
            not _missing(lambda: ec2.describe_vpcs(VpcIds=[physical_id]), "InvalidVpcID.NotFound")
        ),
        "AWS::EC2::Subnet": lambda: (
            not _missing(lambda: ec2.describe_subnets(SubnetIds=[physical_id]), "InvalidSubnetID.NotFound")
        ),
        "AWS::EC2::SecurityGroup": lambda: (
            not _missing(
                lambda: ec2.describe_security_groups(GroupIds=[physical_id]), "InvalidGroup.NotFound"
            )
        ),
        "AWS::EC2::InternetGateway": lambda: (
            not _missing(
                lambda: ec2.describe_internet_gateways(InternetGatewayIds=[physical_id]),
                "InvalidInternetGatewayID.NotFound",
            )
        ),
        "AWS::EC2::RouteTable": lambda: (
            not _missing(
                lambda: ec2.describe_route_tables(RouteTableIds=[physical_id]), "InvalidRouteTableID.NotFound"
            )
        ),
        "AWS::ECS::Cluster": lambda: any(
            c["status"] == "ACTIVE"
            for c in sandbox.client("ecs").describe_clusters(clusters=[physical_id])["clusters"]
        ),
        "AWS::ElasticLoadBalancingV2::LoadBalancer": lambda: (
            not _missing(
                lambda: elb.describe_load_balancers(LoadBalancerArns=[physical_id]), "LoadBalancerNotFound"
            )
        ),
        "AWS::ElasticLoadBalancingV2::TargetGroup": lambda: (
            not _missing(
                lambda: elb.describe_target_groups(TargetGroupArns=[physical_id]), "TargetGroupNotFound"
            )
        ),
        "AWS::ElasticLoadBalancingV2::Listener": lambda: (
            not _missing(
                lambda: elb.describe_listeners(ListenerArns=[physical_id]),
                "ListenerNotFound",
                "LoadBalancerNotFound",
            )
        ),
        "AWS::Logs::LogGroup": lambda: any(
            g["logGroupName"] == physical_id
            for g in sandbox.client("logs").describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
        ),
        "AWS::IAM::Role": lambda: (
            not _missing(lambda: sandbox.client("iam").get_role(RoleName=physical_id), "NoSuchEntity")
        ),
        "AWS::ServiceDiscovery::PrivateDnsNamespace": lambda: (
            not _missing(
                lambda: sandbox.client("servicediscovery").get_namespace(Id=physical_id), "NamespaceNotFound"
            )
        ),
        "AWS::ServiceDiscovery::Service": lambda: (
            not _missing(
                lambda: sandbox.client("servicediscovery").get_service(Id=physical_id), "ServiceNotFound"
            )
        ),
    }
    check = checks.get(kind)
    if check is None:
        raise AssertionError(f"no existence check for {kind}")
    return bool(check())


def checked_kinds() -> set[str]:
    """The resource types `exists` can look up (rules, routes and attachments go with their parents)."""
    return {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::RouteTable",
        "AWS::ECS::Cluster",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
        "AWS::ServiceDiscovery::Service",
    }


def remaining(sandbox: Sandbox, made: dict[str, tuple[str, str]]) -> list[str]:
    """The logical ids among `made` whose resource still exists."""
    return [
        logical
        for logical, (kind, physical) in made.items()
        if kind in checked_kinds() and exists(sandbox, kind, physical)
    ]
