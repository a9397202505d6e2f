"""Lambda functions through unmodified boto3: create, read, list, update, delete, and the checks
Lambda makes on them (Lambda API Reference, CreateFunction and "Lambda quotas")."""

from __future__ import annotations

import io
import json
import pickle
import urllib.request
import zipfile
from pathlib import Path
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
    with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as download:
        assert download.read() == python_zip(HANDLER_SOURCE), "Code.Location serves the package"


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
            {"Code": {"S3Bucket": "lam-no-such-bucket", "S3Key": "hook.zip"}},
            "InvalidParameterValueException",
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket.",
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


def test_role_in_iam_must_trust_lambda(sandbox: Sandbox) -> None:
    iam, lam = sandbox.client("iam"), sandbox.client("lambda")

    def role(name: str, service: str) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        return arn

    for_tasks = role("lam-ecs-tasks", "ecs-tasks.amazonaws.com")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        create(lam, Role=for_tasks)
    assert error_of(excinfo)[1] == "The role defined for the function cannot be assumed by Lambda."
    assert lam.list_functions()["Functions"] == []
    assert create(lam, Role=role("lam-hooks", "lambda.amazonaws.com"))["Role"].endswith("role/lam-hooks")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName="hook", Role=for_tasks)
    assert lam.get_function(FunctionName="hook")["Configuration"]["Role"].endswith("role/lam-hooks")


def test_reset_forgets_functions_and_behaviours(sandbox: Sandbox) -> None:
    create(sandbox.client("lambda"))
    sandbox.admin.set_functions({"function": "hook"})
    sandbox.admin.reset()
    assert sandbox.client("lambda").list_functions()["Functions"] == []
    assert sandbox.admin.functions() == []


def test_functions_are_kept_in_the_state_file_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.state"
    with Sandbox(speed=50, state_file=state) as first:
        create(first.client("lambda"))
        first.admin.set_functions({"function": "other-*", "hookStatus": "FAILED"})
    with Sandbox(speed=50, state_file=state) as second:
        lam = second.client("lambda")
        assert json.loads(lam.invoke(FunctionName="hook")["Payload"].read()) == {"hookStatus": "SUCCEEDED"}
        assert [rule["function"] for rule in second.admin.functions()] == ["other-*"]
        assert second.world.endpoint_url == second.endpoint_url, "functions call the sandbox that now runs"


def test_code_can_come_from_the_sandboxs_s3(sandbox: Sandbox) -> None:
    s3, lam = sandbox.client("s3"), sandbox.client("lambda")
    s3.create_bucket(Bucket="lam-code")
    s3.put_object(Bucket="lam-code", Key="hook.zip", Body=python_zip(HANDLER_SOURCE))
    created = create(lam, Code={"S3Bucket": "lam-code", "S3Key": "hook.zip"})
    assert created["CodeSize"] == len(python_zip(HANDLER_SOURCE))
    assert json.loads(lam.invoke(FunctionName="hook")["Payload"].read()) == {"hookStatus": "SUCCEEDED"}
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="S3 Error Code: NoSuchKey"):
        lam.update_function_code(FunctionName="hook", S3Bucket="lam-code", S3Key="missing.zip")
    s3.put_object(Bucket="lam-code", Key="broken.zip", Body=b"plain text")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="Could not unzip"):
        lam.update_function_code(FunctionName="hook", S3Bucket="lam-code", S3Key="broken.zip")
    assert lam.get_function(FunctionName="hook")["Configuration"]["CodeSha256"] == created["CodeSha256"]
