"""Lambda functions through unmodified boto3: create, read, list, update, delete, and the checks
Lambda makes on them (Lambda API Reference, CreateFunction and "Lambda quotas")."""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import python_zip

ROLE = "arn:aws:iam::123456789012:role/hook-runner"
HANDLER_SOURCE = "def handler(event, context):\n    return {'hookStatus': 'SUCCEEDED'}\n"


def create(lam: Any, name: str = "hook", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": python_zip(HANDLER_SOURCE)},
    }
    params.update(extra)
    answer: dict[str, Any] = lam.create_function(**params)
    return answer


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_created_function_is_described_as_lambda_does(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    created = create(lam, Environment={"Variables": {"STAGE": "test"}}, Description="checks")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:hook"
    assert created["Timeout"] == 3 and created["MemorySize"] == 128, "Lambda's defaults"
    assert created["Version"] == "$LATEST" and created["State"] == "Active"
    assert created["PackageType"] == "Zip" and created["Handler"] == "app.handler"
    assert created["Environment"] == {"Variables": {"STAGE": "test"}}
    assert created["CodeSize"] == len(python_zip(HANDLER_SOURCE))

    got = lam.get_function(FunctionName="hook")
    assert got["Configuration"]["CodeSha256"] == created["CodeSha256"]
    assert got["Configuration"]["Description"] == "checks"
    by_arn = lam.get_function_configuration(FunctionName=created["FunctionArn"])
    assert by_arn["FunctionName"] == "hook"
    assert (
        lam.get_function(FunctionName="123456789012:function:hook")["Configuration"]["FunctionName"] == "hook"
    )
    assert lam.get_function(FunctionName="hook", Qualifier="$LATEST")["Configuration"]["Version"] == "$LATEST"
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["hook"]
    assert lam.get_waiter("function_active_v2").wait(FunctionName="hook") is None


def test_list_functions_pages_with_markers(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    for name in ("c", "a", "b"):
        create(lam, name)
    first = lam.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["a", "b"]
    rest = lam.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in rest["Functions"]] == ["c"] and "NextMarker" not in rest
    paged = lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
    assert [f["FunctionName"] for page in paged for f in page["Functions"]] == ["a", "b", "c"]


def test_missing_function_is_resource_not_found_with_its_arn(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as excinfo:
        lam.get_function(FunctionName="absent")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:absent",
        404,
    )
    create(lam)
    with pytest.raises(lam.exceptions.ResourceNotFoundException, match="function:hook:7"):
        lam.invoke(FunctionName="hook", Qualifier="7")  # the sandbox keeps no published versions
    with pytest.raises(lam.exceptions.ResourceNotFoundException, match="us-west-2"):
        lam.get_function(FunctionName="arn:aws:lambda:us-west-2:123456789012:function:hook")


def test_same_name_twice_is_a_conflict(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    create(lam)
    with pytest.raises(lam.exceptions.ResourceConflictException) as excinfo:
        create(lam)
    assert error_of(excinfo) == ("ResourceConflictException", "Function already exist: hook", 409)


def test_update_code_and_configuration_change_what_runs(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    created = create(lam)
    updated = lam.update_function_code(
        FunctionName="hook", ZipFile=python_zip("def handler(event, context):\n    return {'v': 2}\n")
    )
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["RevisionId"] != created["RevisionId"]
    assert lam.invoke(FunctionName="hook")["Payload"].read() == b'{"v": 2}'
    configured = lam.update_function_configuration(
        FunctionName="hook", Timeout=30, Environment={"Variables": {}}
    )
    assert configured["Timeout"] == 30
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_function_code(FunctionName="hook", ZipFile=python_zip(HANDLER_SOURCE), RevisionId="stale")


def test_delete_removes_the_function(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    create(lam)
    assert lam.delete_function(FunctionName="hook")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_functions()["Functions"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName="hook")


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ({"Role": "hook-runner"}, "ValidationException", "at 'role' failed to satisfy constraint"),
        ({"Timeout": 901}, "ValidationException", "Member must have value less than or equal to 900"),
        ({"MemorySize": 20000}, "ValidationException", "Member must have value less than or equal to 10240"),
        (
            {"Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}},
            "InvalidParameterValueException",
            "Reserved keys used in this request: AWS_REGION",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
        ({"Runtime": "nodejs20.x"}, "InvalidParameterValueException", "runs only Python functions"),
        (
            {"Code": {"ZipFile": b"not a zip"}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file",
        ),
        (
            {"Code": {"S3Bucket": "code-bucket", "S3Key": "hook.zip"}},
            "InvalidParameterValueException",
            "Code.ZipFile only",
        ),
    ],
)
def test_bad_configuration_is_refused_and_nothing_is_created(
    sandbox: Sandbox, extra: dict[str, Any], code: str, message: str
) -> None:
    lam = sandbox.client("lambda")
    with pytest.raises(ClientError) as excinfo:
        create(lam, **extra)
    assert excinfo.value.response["Error"]["Code"] == code
    assert message in excinfo.value.response["Error"]["Message"]
    assert lam.list_functions()["Functions"] == []


def test_secret_environment_values_stay_out_of_the_size_error(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        create(lam, Environment={"Variables": {"TOKEN": "s3cr3t-" * 700}})
    assert "s3cr3t" not in str(excinfo.value)


def test_zip_over_the_direct_upload_limit_is_refused_as_lambda_does(sandbox: Sandbox) -> None:
    # 50 MB zipped is Lambda's limit for a direct upload ("Lambda quotas"); stored, not deflated,
    # so the zip itself is over it
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", HANDLER_SOURCE)
        archive.writestr("blob.bin", b"\0" * (50 * 1024 * 1024))
    lam = sandbox.client("lambda")
    with pytest.raises(ClientError) as excinfo:
        create(lam, Code={"ZipFile": buffer.getvalue()})
    assert error_of(excinfo) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the CreateFunction operation",
        413,
    )
    assert lam.list_functions()["Functions"] == []


def test_zip_that_unzips_over_250_mb_is_refused(sandbox: Sandbox) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", HANDLER_SOURCE)
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(251):
                member.write(chunk)
    lam = sandbox.client("lambda")
    with pytest.raises(
        lam.exceptions.InvalidParameterValueException,
        match="Unzipped size must be smaller than 262144000 bytes",
    ):
        create(lam, Code={"ZipFile": buffer.getvalue()})


def test_functions_and_behaviours_survive_the_state_snapshot(sandbox: Sandbox) -> None:
    create(sandbox.client("lambda"))
    sandbox.admin.set_functions({"function": "hook", "hookStatus": "FAILED", "inProgressTimes": 1})
    sandbox.client("lambda").invoke(FunctionName="hook")  # counts one of the IN_PROGRESS answers
    with sandbox.world.lock:
        restored = pickle.loads(pickle.dumps(sandbox.world))
    function = restored.region("123456789012", "us-east-1").lambda_.find("hook")
    assert function.code == python_zip(HANDLER_SOURCE)
    rule = restored.functions.for_function("hook")
    assert rule is not None and rule.hook_status == "FAILED"
    assert restored.functions.count_answer(rule, function.arn) == 1, "the answers already given are kept"
