"""The output-shape check: real sandbox answers, doctored, are caught where they differ from
botocore's model; and with checking on, a wrong answer fails the call that got it."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

import corral.sandbox.ecs as ecs_package
from corral.sandbox import Sandbox
from corral.sandbox.core import shape_check
from corral.sandbox.core.shape_check import check_parsed, check_wire

LOG_GROUP_TEMPLATE = json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}})


def raw_answers(client: Any) -> list[bytes]:
    """The raw bodies of the answers `client` receives from now on, as they came on the wire."""
    bodies: list[bytes] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append(http_response.content)

    client.meta.events.register("after-call", keep)
    return bodies


def described_stack(sandbox: Sandbox) -> tuple[dict[str, Any], bytes]:
    cfn = sandbox.client("cloudformation")
    cfn.create_stack(StackName="logs", TemplateBody=LOG_GROUP_TEMPLATE)
    bodies = raw_answers(cfn)
    return cfn.describe_stacks(StackName="logs"), bodies[-1]


def problems(found: list[shape_check.Mismatch]) -> dict[str, str]:
    return {m.path: m.problem for m in found}


def test_a_real_answer_passes_as_it_is(sandbox: Sandbox) -> None:
    parsed, raw = described_stack(sandbox)
    assert parsed["Stacks"][0]["StackName"] == "logs"
    assert check_parsed("cloudformation", "DescribeStacks", parsed) == []
    assert check_wire("cloudformation", "DescribeStacks", "query", raw) == []


def test_wrong_type_missing_required_unknown_member_and_bad_enum_are_each_reported(
    sandbox: Sandbox,
) -> None:
    parsed, _ = described_stack(sandbox)
    doctored = copy.deepcopy(parsed)
    stack = doctored["Stacks"][0]
    stack["CreationTime"] = "yesterday"  # a timestamp as text
    stack["EnableTerminationProtection"] = "no"  # a boolean as text
    del stack["StackName"]  # the Stack shape requires it
    stack["Colour"] = "blue"  # the Stack shape has no such member
    stack["StackStatus"] = "CREATE_DONE"  # not one of StackStatus's values

    found = problems(check_parsed("cloudformation", "DescribeStacks", doctored))

    assert found == {
        "Stacks[0].CreationTime": "is str 'yesterday'; expected a timestamp",
        "Stacks[0].EnableTerminationProtection": "is str 'no'; expected a boolean",
        "Stacks[0].StackName": "is missing; Stack requires it",
        "Stacks[0].Colour": "is not a member of Stack",
        "Stacks[0].StackStatus": found["Stacks[0].StackStatus"],
    }
    assert found["Stacks[0].StackStatus"].startswith("is 'CREATE_DONE', not one of StackStatus's values [")
    assert "CREATE_COMPLETE" in found["Stacks[0].StackStatus"]


def test_lists_maps_and_integers_are_checked_member_by_member(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="web", tags=[{"key": "team", "value": "payments"}])
    parsed = ecs.describe_clusters(clusters=["web"], include=["TAGS"])
    assert check_parsed("ecs", "DescribeClusters", parsed) == []

    doctored = copy.deepcopy(parsed)
    cluster = doctored["clusters"][0]
    cluster["runningTasksCount"] = True  # JSON's true is not an integer
    cluster["tags"][0]["value"] = 7
    cluster["settings"] = {"containerInsights": "enabled"}  # a list in the shape
    found = problems(check_parsed("ecs", "DescribeClusters", doctored))
    assert found == {
        "clusters[0].runningTasksCount": "is bool True; expected an integer",
        "clusters[0].tags[0].value": "is int 7; expected a string",
        "clusters[0].settings": "is dict {'containerInsights': 'enabled'}; expected a list of a structure (ClusterSetting)",
    }


def test_members_botocore_would_drop_are_found_in_the_raw_body(sandbox: Sandbox) -> None:
    """boto3 parses an unknown member away without a word; the wire check sees it."""
    ecs = sandbox.client("ecs")
    bodies = raw_answers(ecs)
    ecs.create_cluster(clusterName="web")
    raw = json.loads(bodies[-1])
    assert check_wire("ecs", "CreateCluster", "json", bodies[-1]) == []

    raw["cluster"]["clusterColour"] = "blue"
    raw["cluster"]["registeredContainerInstancesCount"] = "0"
    found = problems(check_wire("ecs", "CreateCluster", "json", json.dumps(raw).encode()))
    assert found == {
        "cluster.clusterColour": "is not a member of Cluster",
        "cluster.registeredContainerInstancesCount": "is str '0'; expected an integer",
    }

    _, xml = described_stack(sandbox)
    doctored = xml.replace(b"<StackName>", b"<Colour>blue</Colour><StackName>", 1)
    assert problems(check_wire("cloudformation", "DescribeStacks", "query", doctored)) == {
        "Stacks[0].Colour": "is not a member of Stack"
    }


def test_a_stacks_own_event_may_carry_a_stack_status_but_nothing_else(sandbox: Sandbox) -> None:
    """AWS reports a stack's status on the stack's own events, beyond botocore's ResourceStatus enum."""
    cfn = sandbox.client("cloudformation")
    cfn.create_stack(StackName="logs", TemplateBody=LOG_GROUP_TEMPLATE)
    parsed = cfn.describe_stack_events(StackName="logs")
    own = next(e for e in parsed["StackEvents"] if e["ResourceType"] == "AWS::CloudFormation::Stack")

    own["ResourceStatus"] = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    assert check_parsed("cloudformation", "DescribeStackEvents", parsed) == []
    own["ResourceStatus"] = "UPDATE_NEARLY_COMPLETE"
    [mismatch] = check_parsed("cloudformation", "DescribeStackEvents", parsed)
    assert mismatch.problem.startswith("is 'UPDATE_NEARLY_COMPLETE', not one of ResourceStatus's values")


@pytest.mark.sandbox(check_shapes=True)
def test_with_checking_on_a_wrong_answer_fails_the_call_naming_operation_and_path(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ecs_package.OPERATIONS["DescribeClusters"]

    def doctored(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
        answer = real(backend, params)
        answer["clusters"][0]["status"] = dt.datetime.now(dt.UTC)  # a timestamp where a string goes
        answer["clusters"][0]["colour"] = "blue"  # dropped by the serializer: boto3 would never know
        # a member of another ECS shape: the serializer drops it from a Cluster, as views rely on
        answer["clusters"][0]["serviceName"] = "web"
        return answer

    monkeypatch.setitem(ecs_package.OPERATIONS, "DescribeClusters", doctored)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="web")

    with pytest.raises(ClientError) as failed:
        ecs.describe_clusters(clusters=["web"])

    error = failed.value.response["Error"]
    assert error["Code"] == "CorralSandboxShapeMismatch"
    assert (
        "ecs DescribeClusters (result): clusters[0].colour: is not a member of Cluster nor of any shape of the ecs model"
        in error["Message"]
    )
    assert [str(m) for m in shape_check.RECORDED.take()] == [
        "ecs DescribeClusters (result): clusters[0].colour: is not a member of Cluster nor of any shape of the ecs model"
    ]
    assert failed.value.operation_name == "DescribeClusters"


@pytest.mark.sandbox(check_shapes=True)
def test_with_checking_on_a_wrong_type_on_the_wire_fails_the_call(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ecs_package.OPERATIONS["DescribeClusters"]

    def doctored(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
        answer = real(backend, params)
        answer["clusters"][0]["activeServicesCount"] = "none"
        return answer

    monkeypatch.setitem(ecs_package.OPERATIONS, "DescribeClusters", doctored)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="web")

    with pytest.raises(ClientError, match="CorralSandboxShapeMismatch") as failed:
        ecs.describe_clusters(clusters=["web"])

    expected = (
        "ecs DescribeClusters (wire): clusters[0].activeServicesCount: is str 'none'; expected an integer"
    )
    assert expected in failed.value.response["Error"]["Message"]
    assert expected in [str(m) for m in shape_check.RECORDED.take()]


@pytest.mark.sandbox(check_shapes=False)
def test_checking_off_leaves_answers_alone(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ecs_package.OPERATIONS["DescribeClusters"]

    def doctored(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
        answer = real(backend, params)
        answer["clusters"][0]["colour"] = "blue"
        return answer

    monkeypatch.setitem(ecs_package.OPERATIONS, "DescribeClusters", doctored)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="web")
    assert ecs.describe_clusters(clusters=["web"])["clusters"][0]["clusterName"] == "web"
    assert shape_check.RECORDED.take() == []


def test_rest_json_bodies_leave_header_and_status_members_out_of_the_body() -> None:
    """Lambda speaks rest-json: Invoke's StatusCode is the HTTP status and FunctionError a header
    (botocore's model); only the body's own members are compared with the JSON keys."""
    invoked = check_wire(
        "lambda",
        "Invoke",
        "rest-json",
        b'{"hookStatus": "SUCCEEDED"}',  # the function's own answer: a blob, not read
        status=200,
        headers={"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"},
    )
    assert invoked == []

    configuration = {"FunctionName": "hook", "Runtime": "python3.12", "State": "Active", "Timeout": 3}
    body = json.dumps(configuration).encode()
    assert check_wire("lambda", "GetFunctionConfiguration", "rest-json", body) == []
    wrong = json.dumps(configuration | {"Runtime": "python9", "StatusCode": 200, "Timeout": "3"}).encode()
    found = {str(m) for m in check_wire("lambda", "GetFunctionConfiguration", "rest-json", wrong)}
    assert found == {
        "lambda GetFunctionConfiguration (wire): StatusCode: is not a member of FunctionConfiguration",
        "lambda GetFunctionConfiguration (wire): Timeout: is str '3'; expected an integer",
        next(
            f
            for f in found
            if f.startswith("lambda GetFunctionConfiguration (parsed): Runtime: is 'python9'")
        ),
    }


def test_cbor_bodies_are_checked_like_json() -> None:
    """Newer botocore releases speak Smithy RPC v2 CBOR to Cloud Map; timestamps come as datetimes."""
    import cbor2

    created = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    summary = {"Id": "ns-1", "Name": "local", "Type": "HTTP", "CreateDate": created}
    good = cbor2.dumps({"Namespaces": [summary]}, datetime_as_timestamp=True)
    assert check_wire("servicediscovery", "ListNamespaces", "smithy-rpc-v2-cbor", good) == []

    bad = cbor2.dumps(
        {"Namespaces": [summary | {"Type": "LOCAL", "VpcId": "vpc-1"}]}, datetime_as_timestamp=True
    )
    found = problems(check_wire("servicediscovery", "ListNamespaces", "smithy-rpc-v2-cbor", bad))
    assert found["Namespaces[0].VpcId"] == "is not a member of NamespaceSummary"
    assert found["Namespaces[0].Type"].startswith("is 'LOCAL', not one of NamespaceType's values [")
