"""What ECS's AWS_LAMBDA lifecycle hooks call: `invoke_function` in-process, and function
behaviours set through the admin API, so hook tests need no function code ("Lambda hooks for
Amazon ECS service deployments": the answer is `{"hookStatus": ..., "callBackDelay": ...}`)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from corral.sandbox import Sandbox
from corral.sandbox.client import SandboxAdminError
from corral.sandbox.lambda_.invoke import FunctionError, invoke_function

from .helpers import python_zip

ROLE = "arn:aws:iam::123456789012:role/hook-runner"
ACCOUNT, REGION = "123456789012", "us-east-1"
HOOK_EVENT = {
    "executionDetails": {"testTrafficWeights": {}, "productionTrafficWeights": {}},
    "executionId": "hook-1",
    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
    "resourceArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/abc",
}


def deploy(sandbox: Sandbox, source: str, name: str = "hook", **extra: Any) -> str:
    created = sandbox.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": python_zip(source)},
        **extra,
    )
    arn: str = created["FunctionArn"]
    return arn


def from_ecs(sandbox: Sandbox, arn: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call as the ECS emulation does: from sandbox code holding the world lock."""
    with sandbox.world.lock:
        return invoke_function(sandbox.world, ACCOUNT, REGION, arn, payload or HOOK_EVENT)


def test_invoke_function_runs_the_code_with_the_hook_payload(sandbox: Sandbox) -> None:
    arn = deploy(
        sandbox,
        "def handler(event, context):\n"
        "    ok = event['lifecycleStage'] == 'POST_TEST_TRAFFIC_SHIFT'\n"
        "    return {'hookStatus': 'SUCCEEDED' if ok else 'FAILED'}\n",
    )
    assert from_ecs(sandbox, arn) == {"hookStatus": "SUCCEEDED"}
    [row] = sandbox.admin.invocations("hook")
    assert row["event"] == HOOK_EVENT and row["via"] == "ecs"


def test_invoke_function_releases_the_lock_so_the_code_can_call_the_sandbox(sandbox: Sandbox) -> None:
    sandbox.client("ecs").create_cluster(clusterName="hooked")
    arn = deploy(
        sandbox,
        "import boto3\n"
        "def handler(event, context):\n"
        "    found = boto3.client('ecs').describe_clusters(clusters=['hooked'])['clusters']\n"
        "    return {'hookStatus': 'SUCCEEDED' if found else 'FAILED'}\n",
        Timeout=20,
    )
    with sandbox.world.lock, sandbox.world.lock:  # held twice, as nested sandbox code may hold it
        answer = invoke_function(sandbox.world, ACCOUNT, REGION, arn, HOOK_EVENT)
        assert sandbox.world.lock._is_owned()  # type: ignore[attr-defined]
    assert answer == {"hookStatus": "SUCCEEDED"}
    taken: list[bool] = []

    def take_and_give_back() -> None:
        if sandbox.world.lock.acquire(timeout=10):
            taken.append(True)
            sandbox.world.lock.release()

    other = threading.Thread(target=take_and_give_back)
    other.start()
    other.join()
    assert taken == [True], "the lock was given back exactly as deep as it was held"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def handler(e, c):\n    raise RuntimeError('smoke test failed')\n",
            "RuntimeError: smoke test failed",
        ),
        ("def handler(e, c):\n    return None\n", "not a JSON object"),
        ("def handler(e, c):\n    return ['SUCCEEDED']\n", "not a JSON object"),
        ("import time\ndef handler(e, c):\n    time.sleep(30)\n", r"Sandbox\.Timedout"),
    ],
)
def test_invoke_function_raises_when_the_function_gives_no_answer(
    sandbox: Sandbox, source: str, expected: str
) -> None:
    arn = deploy(sandbox, source, Timeout=1)
    with pytest.raises(FunctionError, match=expected):
        from_ecs(sandbox, arn)


def test_invoke_function_of_a_missing_function_raises(sandbox: Sandbox) -> None:
    missing = "arn:aws:lambda:us-east-1:123456789012:function:never-created"
    with pytest.raises(FunctionError, match=f"Function not found: {missing}"):
        from_ecs(sandbox, missing)


def test_behaviour_answers_in_progress_n_times_then_its_status(sandbox: Sandbox) -> None:
    arn = deploy(sandbox, "def handler(e, c):\n    raise AssertionError('code must not run')\n")
    sandbox.admin.set_functions({"function": "hook", "inProgressTimes": 2, "callBackDelay": 15})
    answers = [from_ecs(sandbox, arn) for _ in range(3)]
    assert answers == [
        {"hookStatus": "IN_PROGRESS", "callBackDelay": 15},
        {"hookStatus": "IN_PROGRESS", "callBackDelay": 15},
        {"hookStatus": "SUCCEEDED"},
    ]
    sandbox.admin.set_functions({"function": "hook", "hookStatus": "FAILED"})
    assert from_ecs(sandbox, arn) == {"hookStatus": "FAILED"}, "a new rule starts counting afresh"


def test_behaviours_match_patterns_and_apply_to_the_invoke_api_too(sandbox: Sandbox) -> None:
    deploy(sandbox, "def handler(e, c):\n    return {'hookStatus': 'SUCCEEDED'}\n", name="hook-canary")
    plain = deploy(sandbox, "def handler(e, c):\n    return {'ran': True}\n", name="other")
    sandbox.admin.set_functions(
        {"function": "hook-*", "error": "bake check failed", "errorType": "CheckFailed"}
    )
    lam = sandbox.client("lambda")
    response = lam.invoke(FunctionName="hook-canary")
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("CheckFailed", "bake check failed")
    assert from_ecs(sandbox, plain) == {"ran": True}, "functions without a rule run their code"


def test_behaviour_answer_and_timeout(sandbox: Sandbox) -> None:
    arn = deploy(sandbox, "def handler(e, c):\n    return {}\n")
    sandbox.admin.set_functions(
        {"function": "hook", "answer": {"hookStatus": "SUCCEEDED", "hookDetails": {"n": 1}}}
    )
    assert from_ecs(sandbox, arn) == {"hookStatus": "SUCCEEDED", "hookDetails": {"n": 1}}
    sandbox.admin.set_functions({"function": "hook", "timeout": True})
    with pytest.raises(FunctionError, match=r"Sandbox\.Timedout"):
        from_ecs(sandbox, arn)
    sandbox.admin.clear_functions()
    assert sandbox.admin.functions() == []
    assert from_ecs(sandbox, arn) == {}


def test_behaviour_of_a_missing_function_does_not_make_it_exist(sandbox: Sandbox) -> None:
    sandbox.admin.set_functions({"function": "*", "hookStatus": "SUCCEEDED"})
    with pytest.raises(FunctionError, match="Function not found"):
        from_ecs(sandbox, "arn:aws:lambda:us-east-1:123456789012:function:ghost")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"hookStatus": "SUCCEEDED"}, "a function behaviour needs `function`"),
        (
            {"function": "hook", "hookStatus": "DONE"},
            "hookStatus must be one of SUCCEEDED, FAILED, IN_PROGRESS",
        ),
        ({"function": "hook", "colour": "red"}, "unknown function behaviour fields: colour"),
        ({"function": "hook", "inProgressTimes": -1}, "inProgressTimes must be a whole number"),
    ],
)
def test_bad_behaviours_are_refused(sandbox: Sandbox, rule: dict[str, Any], message: str) -> None:
    with pytest.raises(SandboxAdminError, match=message):
        sandbox.admin.set_functions(rule)
    assert sandbox.admin.functions() == []
