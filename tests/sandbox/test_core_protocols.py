"""The sandbox answers each wire protocol botocore may speak, whatever release the client runs.

Newer botocore releases talk Smithy RPC v2 CBOR to Cloud Map (and CloudWatch) where older ones
talk JSON; the sandbox reads the protocol from the request. These tests send CBOR with botocore's
own serializer and parser, so they hold with any installed botocore.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import botocore.parsers
import botocore.serialize
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from corral.sandbox import Sandbox


def cbor_call(sandbox: Sandbox, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model(service)
    op = model.operation_model(operation)
    request = botocore.serialize.create_serializer("smithy-rpc-v2-cbor").serialize_to_request(params, op)
    aws_request = AWSRequest(
        method=request["method"],
        url=sandbox.endpoint_url + request["url_path"],
        data=request["body"],
        headers=request["headers"],
    )
    SigV4Auth(Credentials("testing", "testing"), model.signing_name, "us-east-1").add_auth(aws_request)
    prepared = aws_request.prepare()
    http = urllib.request.Request(
        prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=10) as answer:
            status, headers, body = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, dict(error.headers), error.read()
    parser = botocore.parsers.create_parser("smithy-rpc-v2-cbor")
    return parser.parse({"status_code": status, "headers": headers, "body": body}, op.output_shape)


def test_cloud_map_over_cbor(sandbox: Sandbox) -> None:
    created = cbor_call(sandbox, "servicediscovery", "CreateHttpNamespace", {"Name": "apps"})
    assert created["OperationId"]
    namespaces = cbor_call(sandbox, "servicediscovery", "ListNamespaces", {})["Namespaces"]
    assert [n["Name"] for n in namespaces] == ["apps"]
    assert namespaces[0]["CreateDate"].year >= 2024, "timestamps travel as CBOR tag 1"
    # the same state answers JSON clients too
    assert sandbox.client("servicediscovery").list_namespaces()["Namespaces"][0]["Id"] == namespaces[0]["Id"]


def test_cbor_errors_carry_the_aws_error_code(sandbox: Sandbox) -> None:
    answer = cbor_call(sandbox, "servicediscovery", "GetNamespace", {"Id": "ns-doesnotexist"})
    assert answer["Error"]["Code"] == "NamespaceNotFound"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [c["operation"] for c in sandbox.admin.calls()][-1] == "GetNamespace"


def test_a_document_member_travels_as_given() -> None:
    """ECS's lifecycle hook `hookDetails` is a document (free-form JSON) in botocore's model: the
    sandbox's serializer must pass it whole, not drop its keys as members the shape lacks."""
    from corral.sandbox.core.protocol import serialize_json_response
    from corral.sandbox.core.shape_check import check_wire

    hook = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:check",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "hookDetails": {"path": "/ready", "expect": [200, 204], "strict": True},
    }
    service = {"serviceName": "web", "deploymentConfiguration": {"lifecycleHooks": [hook]}}
    body = serialize_json_response("ecs", "DescribeServices", {"services": [service], "failures": []})

    op = botocore.session.get_session().get_service_model("ecs").operation_model("DescribeServices")
    parsed = botocore.parsers.create_parser("json").parse(
        {"status_code": 200, "headers": {}, "body": body}, op.output_shape
    )
    [answered] = parsed["services"][0]["deploymentConfiguration"]["lifecycleHooks"]
    assert answered["hookDetails"] == {"path": "/ready", "expect": [200, 204], "strict": True}
    assert check_wire("ecs", "DescribeServices", "json", body) == []
