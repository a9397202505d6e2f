"""Invoking Lambda functions through unmodified boto3: the code runs in its own Python process
with the function's environment and timeout, and errors come back as Lambda returns them
(Invoke, Lambda API Reference; "AWS Lambda function errors in Python")."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .helpers import python_zip

ROLE = "arn:aws:iam::123456789012:role/hook-runner"


def deploy(sandbox: Sandbox, source: str, name: str = "fn", **extra: Any) -> Any:
    lam = sandbox.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=extra.pop("Handler", "app.handler"),
        Code={"ZipFile": python_zip(source)},
        **extra,
    )
    return lam


def answer_of(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def test_handler_gets_the_event_and_context_and_its_answer_is_returned(sandbox: Sandbox) -> None:
    lam = deploy(
        sandbox,
        "def handler(event, context):\n"
        "    return {'doubled': event['n'] * 2, 'name': context.function_name,\n"
        "            'arn': context.invoked_function_arn, 'left': context.get_remaining_time_in_millis() > 0}\n",
    )
    response = lam.invoke(FunctionName="fn", Payload=json.dumps({"n": 21}))
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert answer_of(response) == {
        "doubled": 42,
        "name": "fn",
        "arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "left": True,
    }


def test_code_runs_in_another_process_with_only_the_functions_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRAL_SANDBOX_ONLY", "must not reach function code")
    lam = deploy(
        sandbox,
        "import os\ndef handler(event, context):\n    return {'pid': os.getpid(), 'env': dict(os.environ)}\n",
        Environment={"Variables": {"STAGE": "blue"}},
    )
    answer = answer_of(lam.invoke(FunctionName="fn"))
    assert answer["pid"] != os.getpid()
    env = answer["env"]
    assert env["STAGE"] == "blue"
    assert "CORRAL_SANDBOX_ONLY" not in env and "PYTHONPATH" not in env
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn" and env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL"] == sandbox.endpoint_url


def test_function_code_can_call_the_sandbox_with_boto3(sandbox: Sandbox) -> None:
    sandbox.client("ecs").create_cluster(clusterName="seen-from-lambda")
    lam = deploy(
        sandbox,
        "import boto3\n"
        "def handler(event, context):\n"
        "    return boto3.client('ecs').list_clusters()['clusterArns']\n",
    )
    assert "arn:aws:ecs:us-east-1:123456789012:cluster/seen-from-lambda" in answer_of(
        lam.invoke(FunctionName="fn")
    )


def test_raised_exception_is_an_unhandled_function_error_with_lambdas_payload(sandbox: Sandbox) -> None:
    lam = deploy(sandbox, "def handler(event, context):\n    raise ValueError('health check failed')\n")
    response = lam.invoke(FunctionName="fn")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = answer_of(response)
    assert error["errorMessage"] == "health check failed"
    assert error["errorType"] == "ValueError"
    assert error["requestId"]
    assert error["stackTrace"] == [
        "  File \"/var/task/app.py\", line 2, in handler\n    raise ValueError('health check failed')\n"
    ]


@pytest.mark.parametrize(
    ("source", "handler", "error_type", "message"),
    [
        ("x = 1\n", "missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing'"),
        ("x = 1\n", "app.handler", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"),
        ("def handler(:\n", "app.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app'"),
        (
            "def handler(e, c):\n    return {1, 2}\n",
            "app.handler",
            "Runtime.MarshalError",
            "Unable to marshal response",
        ),
        (
            "import sys\ndef handler(e, c):\n    sys.exit(3)\n",
            "app.handler",
            "Runtime.ExitError",
            "exit status 3",
        ),
    ],
)
def test_runtime_errors_are_named_as_the_python_runtime_names_them(
    sandbox: Sandbox, source: str, handler: str, error_type: str, message: str
) -> None:
    lam = deploy(sandbox, source, Handler=handler)
    response = lam.invoke(FunctionName="fn")
    assert response["FunctionError"] == "Unhandled"
    error = answer_of(response)
    assert error["errorType"] == error_type
    assert message in error["errorMessage"]


def test_function_running_past_its_timeout_is_stopped(sandbox: Sandbox) -> None:
    lam = deploy(
        sandbox,
        "import time\ndef handler(event, context):\n    time.sleep(60)\n    return 'late'\n",
        Timeout=1,
    )
    response = lam.invoke(FunctionName="fn", LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    error = answer_of(response)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in base64.b64decode(response["LogResult"]).decode()


def test_log_tail_holds_the_functions_output(sandbox: Sandbox) -> None:
    lam = deploy(
        sandbox, "def handler(event, context):\n    print('checking', event['target'])\n    return 'ok'\n"
    )
    response = lam.invoke(FunctionName="fn", Payload=b'{"target": "green"}', LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "checking green" in log
    assert log.startswith("START RequestId: ") and "REPORT RequestId: " in log
    assert answer_of(response) == "ok", "prints go to the log, not into the answer"


def test_payload_that_is_not_json_is_refused(sandbox: Sandbox) -> None:
    lam = deploy(sandbox, "def handler(event, context):\n    return event\n")
    with pytest.raises(
        lam.exceptions.InvalidRequestContentException, match="Could not parse request body into json"
    ):
        lam.invoke(FunctionName="fn", Payload=b"{not json")
    assert sandbox.admin.invocations("fn") == [], "nothing ran"


def test_dry_run_checks_without_running_and_event_answers_202(sandbox: Sandbox) -> None:
    lam = deploy(sandbox, "def handler(event, context):\n    return event\n")
    assert lam.invoke(FunctionName="fn", InvocationType="DryRun")["StatusCode"] == 204
    assert sandbox.admin.invocations("fn") == []
    assert lam.invoke(FunctionName="fn", InvocationType="Event", Payload=b'{"a": 1}')["StatusCode"] == 202
    assert [row["event"] for row in sandbox.admin.invocations("fn")] == [{"a": 1}]


def test_invoking_a_missing_function_is_resource_not_found(sandbox: Sandbox) -> None:
    lam = sandbox.client("lambda")
    with pytest.raises(
        lam.exceptions.ResourceNotFoundException, match=r"Function not found: .*:function:absent"
    ):
        lam.invoke(FunctionName="absent")


def test_invocations_are_logged_for_the_admin_api(sandbox: Sandbox) -> None:
    lam = deploy(sandbox, "def handler(event, context):\n    return {'seen': event}\n")
    lam.invoke(FunctionName="fn", Payload=b'{"stage": "PRE_SCALE_UP"}')
    [row] = sandbox.admin.invocations("fn")
    assert row["event"] == {"stage": "PRE_SCALE_UP"}
    assert row["answer"] == {"seen": {"stage": "PRE_SCALE_UP"}}
    assert row["functionError"] is None and row["via"] == "api" and row["region"] == "us-east-1"
    assert [c["operation"] for c in sandbox.admin.calls() if c["service"] == "lambda"] == [
        "CreateFunction",
        "Invoke",
    ]
