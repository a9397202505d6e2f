"""ShellScript, Http, Wait, HarnessApproval and Verify as a pipeline runs them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from corral.config import load_project
from corral.engine import abort, approve, create_execution, get_execution, run_pipeline
from corral.engine.analysis import Limits, Measurement, Phase, assess
from corral.engine.embedded import EmbeddedExecutor
from corral.store import Store

from .helpers import (
    Probe,
    fast,
    http_server,
    pipeline,
    probe_step,
    shell,
    stage,
    step,
    wait_until,
    write_project,
)


def run_one(tmp_path: Path, store: Store, steps: list, **kwargs):  # type: ignore[no-untyped-def,type-arg]
    doc = pipeline("p", [stage("s", steps)])
    return run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast(), **kwargs)


def test_shell_script_failure_shows_the_last_lines(tmp_path: Path, store: Store) -> None:
    script = "for i in $(seq 1 15); do echo line $i; done\nexit 3"
    execution = run_one(
        tmp_path, store, [shell("sh", script, spec={"environmentVariables": [{"name": "A", "value": 1}]})]
    )
    error = execution.step("sh").error or ""
    assert error.startswith("Shell script exited with code 3.")
    assert error.splitlines()[-1] == "line 15" and "line 5" not in error
    assert len(store.logs(execution.id, step_key="s/sh")) == 15


def test_shell_script_environment_variables(tmp_path: Path, store: Store) -> None:
    script = 'OUT="$GREETING, $WHO"'
    execution = run_one(
        tmp_path,
        store,
        [
            shell(
                "sh",
                script,
                spec={
                    "environmentVariables": [
                        {"name": "GREETING", "type": "String", "value": "hello"},
                        {"name": "WHO", "type": "String", "value": "<+pipeline.name>"},
                    ],
                    "outputVariables": [{"name": "out", "type": "String", "value": "OUT"}],
                },
            )
        ],
    )
    assert execution.step("sh").outputs == {"out": "hello, p"}


def test_http_assertion_and_output_variables(tmp_path: Path, store: Store) -> None:
    def answer(path: str) -> tuple[int, str]:
        return (200, '{"version": "1.2.3"}') if path == "/ok" else (503, "down")

    with http_server(answer) as base:
        ok = step(
            "ok",
            "Http",
            {
                "url": f"{base}/ok",
                "method": "GET",
                "assertion": "<+httpResponseCode> == 200",
                "outputVariables": [
                    {
                        "name": "version",
                        "type": "String",
                        "value": '<+json.select("version", httpResponseBody)>',
                    }
                ],
            },
        )
        down = step(
            "down",
            "Http",
            {"url": f"{base}/down", "method": "GET", "assertion": "<+httpResponseCode> == 200"},
        )
        execution = run_one(tmp_path, store, [ok, down])
    assert execution.step("ok").outputs["version"] == "1.2.3"
    assert execution.step("ok").outputs["httpResponseCode"] == 200
    down_step = execution.step("down")
    assert down_step.status == "Failed"
    assert down_step.error == "Assertion <+httpResponseCode> == 200 failed: response code 503"


def test_http_connection_refused_is_a_connectivity_error(tmp_path: Path, store: Store) -> None:
    execution = run_one(
        tmp_path, store, [step("h", "Http", {"url": "http://127.0.0.1:9/x", "method": "GET"})]
    )
    assert execution.step("h").failure_type == "Connectivity"


def test_wait_step(tmp_path: Path, store: Store) -> None:
    execution = run_one(tmp_path, store, [step("w", "Wait", {"duration": "50ms"})])
    assert execution.step("w").status == "Success"
    checkpoints = store.journal(execution.id, kinds=["checkpoint"])
    assert [c.step_key for c in checkpoints] == ["s/w"]


def test_approval_approved_and_rejected(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    step(
                        "gate",
                        "HarnessApproval",
                        {"approvalMessage": "Ship <+pipeline.name>?", "approvers": {"userGroups": ["ops"]}},
                        timeout="1h",
                    ),
                    probe_step("after", outputs={"by": "<+execution.steps.gate.output.approvedBy>"}),
                ],
            )
        ],
    )
    project = write_project(tmp_path, doc)

    def start() -> str:
        record = create_execution(project, "p", store=store)
        thread = threading.Thread(
            target=EmbeddedExecutor(store, load_project(project), fast()).run, args=(record.id,)
        )
        thread.start()
        threads.append(thread)
        return record.id

    threads: list[threading.Thread] = []
    first = start()
    request = wait_until(lambda: store.requests(first, waiting=True))[0]
    assert (request.message, request.approvers) == ("Ship p?", {"userGroups": ["ops"]})
    approve(first, comment="go", by="carol", store=store)
    threads[0].join(10)
    execution = get_execution(first, store=store)
    assert execution.status == "Success"
    assert execution.step("after").outputs == {"by": "carol"}
    assert execution.step("gate").outputs["comment"] == "go"

    second = start()
    wait_until(lambda: store.requests(second, waiting=True))
    approve(second, approve=False, comment="not today", by="dave", store=store)
    threads[1].join(10)
    execution = get_execution(second, store=store)
    assert execution.status == "Failed"
    gate = execution.step("gate")
    assert (gate.status, gate.failure_type, gate.error) == (
        "ApprovalRejected",
        "ApprovalRejection",
        "Rejected by dave: not today",
    )


def test_approval_times_out(tmp_path: Path, store: Store) -> None:
    execution = run_one(tmp_path, store, [step("gate", "HarnessApproval", {}, timeout="50ms")])
    gate = execution.step("gate")
    assert (gate.status, gate.failure_type) == ("Expired", "Timeout")
    assert [r.status for r in store.requests(execution.id)] == ["Expired"]


def verify(base: str, **spec: object) -> dict:  # type: ignore[type-arg]
    body = {
        "duration": "300ms",
        "interval": "50ms",
        "failureLimit": 1,
        "checks": [
            {"name": "health", "type": "Http", "spec": {"url": f"{base}/health", "expectedStatus": ["2xx"]}}
        ],
    }
    body.update(spec)
    return step("verify", "Verify", body)


def test_verify_passes_when_the_new_version_behaves(tmp_path: Path, store: Store) -> None:
    with http_server(lambda path: (200, "ok")) as base:
        # a whole second of 50 ms intervals: several measurements even on a loaded machine
        execution = run_one(tmp_path, store, [verify(base, duration="1s")])
    result = execution.step("verify")
    assert result.status == "Success"
    assert result.outputs["verdict"] == "Successful"
    assert result.outputs["measurements"]["health"]["Successful"] >= 2


def test_verify_fails_and_rolls_back_when_it_misbehaves(tmp_path: Path, store: Store, probe: Probe) -> None:
    calls = {"n": 0}

    def flaky(path: str) -> tuple[int, str]:
        calls["n"] += 1
        return (500, "boom") if calls["n"] % 2 == 0 else (200, "ok")

    with http_server(flaky) as base:
        doc = pipeline("p", [stage("s", [verify(base, duration="10s")], [probe_step("undo")])])
        execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    result = execution.step("verify")
    assert (result.status, result.failure_type) == ("Failed", "Verification")
    assert "health: 2 failed measurements (limit 1)" in (result.error or "")
    assert calls["n"] == 4  # stopped early, long before the 10s window
    assert execution.step("undo").status == "Success"


def test_verdicts_are_a_pure_function() -> None:
    ok, bad, err, none = (
        Measurement("c", p) for p in (Phase.SUCCESSFUL, Phase.FAILED, Phase.ERROR, Phase.INCONCLUSIVE)
    )
    limits = Limits(failure_limit=1, consecutive_error_limit=2, inconclusive_limit=1)
    assert assess({"c": [ok, bad]}, limits, complete=False).phase is Phase.RUNNING
    assert assess({"c": [ok, bad]}, limits, complete=True).phase is Phase.SUCCESSFUL
    assert assess({"c": [bad, ok, bad]}, limits, complete=False).phase is Phase.FAILED
    assert assess({"c": [err, err]}, limits, complete=False).phase is Phase.RUNNING
    assert assess({"c": [err, err, err]}, limits, complete=False).phase is Phase.ERROR
    assert assess({"c": [err, ok, err, err]}, limits, complete=True).phase is Phase.SUCCESSFUL
    assert assess({"c": [none, none]}, limits, complete=False).phase is Phase.INCONCLUSIVE
    assert assess({"c": []}, limits, complete=True).phase is Phase.INCONCLUSIVE
    worst = assess({"a": [ok], "b": [bad, bad]}, limits, complete=True)
    assert worst.phase is Phase.FAILED and worst.message.startswith("b:")


def test_verify_with_cloudwatch_metrics(tmp_path: Path, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import boto3
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1").put_metric_data(
            Namespace="Web", MetricData=[{"MetricName": "Errors", "Value": 7.0, "Unit": "Count"}]
        )
        connector = f"""connector:
  name: AWS
  identifier: aws
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
      region: us-east-1
    endpointUrl: {endpoint}
"""
        query = [
            {
                "Id": "errors",
                "MetricStat": {
                    "Metric": {"Namespace": "Web", "MetricName": "Errors"},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ]

        def check(condition: str, identifier: str) -> dict:  # type: ignore[type-arg]
            spec = {
                "connectorRef": "aws",
                "region": "us-east-1",
                "metricDataQueries": query,
                "successCondition": condition,
            }
            return step(
                identifier,
                "Verify",
                {
                    "duration": "100ms",
                    "interval": "50ms",
                    "checks": [{"name": "errors", "type": "CloudWatch", "spec": spec}],
                },
                failureStrategies=[{"onFailure": {"errors": ["Verification"], "action": {"type": "Ignore"}}}],
            )

        doc = pipeline("p", [stage("s", [check("result < 10", "calm"), check("result < 5", "strict")])])
        execution = run_pipeline(
            write_project(tmp_path, doc, extra={"connector.yaml": connector}),
            "p",
            store=store,
            options=fast(),
        )
    finally:
        server.stop()
    assert execution.step("calm").status == "Success", execution.step("calm").error
    strict = execution.step("strict")
    assert (strict.status, strict.failure_type) == ("IgnoreFailed", "Verification")
    assert "result 7.0 does not meet result < 5" in (strict.error or "")


def test_scripts_never_see_corrals_own_keys(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRAL_SECRETS_KEY", "the-key-that-decrypts-every-secret")
    monkeypatch.setenv("CORRAL_ADMIN_TOKEN", "crl_admin")
    script = 'echo "key=${CORRAL_SECRETS_KEY:-none} token=${CORRAL_ADMIN_TOKEN:-none}"'
    execution = run_one(tmp_path, store, [shell("show", script)])
    assert execution.step("show").status == "Success"
    lines = [line.message for line in store.logs(execution.id, step_key="s/show")]
    assert lines == ["key=none token=none"]


@pytest.mark.parametrize("after_a_step", [False, True], ids=["approval first", "after a step"])
def test_a_step_seen_waiting_for_approval_can_be_approved_at_once(
    tmp_path: Path, store: Store, after_a_step: bool
) -> None:
    """Whoever sees the step waiting (UI, `corral executions`) finds its request: no gap."""
    gate = step("gate", "HarnessApproval", {"approvalMessage": "Ship?"})
    doc = pipeline("p", [stage("s", [shell("before", "true"), gate] if after_a_step else [gate])])
    project = write_project(tmp_path, doc)
    record = create_execution(project, "p", store=store)
    runner = threading.Thread(
        target=EmbeddedExecutor(store, load_project(project), fast()).run, args=(record.id,)
    )
    runner.start()
    try:
        # no sleep between looks: the first moment the step shows as waiting
        while not any(
            s.key.endswith("gate") and s.status == "ApprovalWaiting" for s in store.steps(record.id)
        ):
            assert runner.is_alive(), "the execution ended without waiting"
        assert [r.message for r in store.requests(record.id, waiting=True)] == ["Ship?"]
        approve(record.id, comment="now", by="erin", store=store)
        runner.join(10)
        assert get_execution(record.id, store=store).status == "Success"
    finally:
        if runner.is_alive():  # a failed assertion must not leave the execution waiting an hour
            abort(record.id, store=store)
            runner.join(10)
