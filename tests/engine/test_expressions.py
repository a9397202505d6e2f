"""What expressions read while a pipeline runs: pipeline, stage, step outputs, the target, secrets."""

from __future__ import annotations

from pathlib import Path

from corral.engine import run_pipeline
from corral.store import Store

from .helpers import Probe, fast, group, pipeline, probe_step, shell, stage, write_project

SECRET = """secret:
  name: Token
  identifier: token
  type: SecretText
  spec:
    secretManagerIdentifier: file
    valueType: Reference
    value: token.txt
"""


def test_pipeline_stage_and_step_outputs(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "first",
                [
                    probe_step("a", outputs={"x": "from-a"}),
                    group("g", [probe_step("b", outputs={"y": 7})]),
                    shell(
                        "sh",
                        'VERSION="v-<+execution.steps.a.output.x>"\nMULTI="$(printf "one\\ntwo")"',
                        spec={
                            "outputVariables": [
                                {"name": "version", "type": "String", "value": "VERSION"},
                                {"name": "multi", "type": "String", "value": "MULTI"},
                            ]
                        },
                    ),
                    probe_step(
                        "c",
                        outputs={
                            "name": "<+pipeline.name>/<+pipeline.identifier>",
                            "execution": "<+pipeline.executionId>",
                            "sequence": "<+pipeline.sequenceId>",
                            "start": "<+pipeline.startTs>",
                            "variable": "<+pipeline.variables.region>",
                            "stage": "<+stage.name>/<+stage.identifier>/<+stage.variables.tier>",
                            "a": "<+execution.steps.a.output.x>",
                            "b_nested": "<+execution.steps.g.steps.b.output.y>",
                            "b_flat": "<+steps.b.output.y>",
                            "version": "<+execution.steps.sh.output.outputVariables.version>",
                            "multi": "<+execution.steps.sh.output.multi>",
                            "me": "<+step.identifier>",
                            "sum": "<+execution.steps.g.steps.b.output.y + 1>",
                        },
                    ),
                ],
                variables=[{"name": "tier", "type": "String", "value": "web-<+pipeline.variables.region>"}],
            ),
            stage(
                "second",
                [
                    probe_step(
                        "d",
                        outputs={
                            "other_stage": "<+pipeline.stages.first.spec.execution.steps.a.output.x>",
                            "other_status": "<+pipeline.stages.first.status>",
                        },
                    )
                ],
            ),
        ],
        variables=[{"name": "region", "type": "String", "value": "eu-west-1"}],
    )
    project = write_project(tmp_path, doc)
    execution = run_pipeline(project, "p", store=store, options=fast())
    assert execution.status == "Success", execution.error
    outputs = execution.step("c").outputs
    start = probe.calls[-2].values["pipeline"]["startTs"]
    assert outputs == {
        "name": "p/p",
        "execution": execution.id,
        "sequence": 1,
        "start": start,
        "variable": "eu-west-1",
        "stage": "first/first/web-eu-west-1",
        "a": "from-a",
        "b_nested": 7,
        "b_flat": 7,
        "version": "v-from-a",
        "multi": "one\ntwo",
        "me": "c",
        "sum": 8,
    }
    assert execution.step("d").outputs == {"other_stage": "from-a", "other_status": "Success"}
    again = run_pipeline(project, "p", store=store, options=fast())
    assert again.step("c").outputs["sequence"] == 2


def test_an_unresolved_expression_fails_the_step(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline("p", [stage("s", [probe_step("a", outputs={"x": "<+execution.steps.nope.output.x>"})])])
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    error = execution.step("a").error or ""
    assert "unresolved expression <+execution.steps.nope.output.x>" in error
    assert "pipeline.stages[0].stage.spec.execution.steps[0].step.spec.outputs.x" in error


def test_secrets_reach_the_step_but_not_the_store(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    shell(
                        "sh",
                        'echo "token is $TOKEN"; test "$TOKEN" = "$(cat token.txt)"',
                        spec={
                            "environmentVariables": [
                                {"name": "TOKEN", "type": "Secret", "value": '<+secrets.getValue("token")>'}
                            ]
                        },
                    ),
                    probe_step("p", outputs={"t": '<+secrets.getValue("token")>'}),
                ],
            )
        ],
    )
    project = write_project(tmp_path, doc, extra={"secret.yaml": SECRET, "token.txt": "s3cr3t-value\n"})
    execution = run_pipeline(project, "p", store=store, options=fast())
    assert execution.step("sh").status == "Success"
    assert probe.calls[0].spec == {"outputs": {"t": "s3cr3t-value"}}  # the step got the value
    assert [line.message for line in store.logs(execution.id, step_key="s/sh")] == ["token is **************"]
    assert execution.step("p").outputs == {"t": "**************"}  # outputs are journaled: masked
    rows = [str(r) for r in store.journal(execution.id)] + [str(s) for s in store.steps(execution.id)]
    rows += [str(store.execution(execution.id))]
    assert not any("s3cr3t-value" in row for row in rows)


def test_deployment_stage_target_values_and_lock(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "deploy",
                [
                    probe_step(
                        "a",
                        outputs={
                            "image": "<+artifact.image>",
                            "tag": "<+artifacts.primary.tag>",
                            "service": "<+service.name>",
                            "env": "<+env.name>/<+env.type>/<+env.variables.color>",
                            "infra": "<+infra.cluster>@<+infra.region>",
                            "replicas": "<+serviceVariables.replicas>",
                        },
                    )
                ],
                type="Deployment",
                spec={
                    "service": {"serviceRef": "web"},
                    "environment": {
                        "environmentRef": "dev",
                        "infrastructureDefinitions": [{"identifier": "fargate"}],
                    },
                },
            )
        ],
    )
    execution = run_pipeline(
        write_project(tmp_path, doc, ecs=True), "p", store=store, options=fast(), inputs={"tag": "1.27"}
    )
    assert execution.status == "Success", execution.error
    assert execution.step("a").outputs == {
        "image": "registry.hub.docker.com/library/nginx:1.27",
        "tag": "1.27",
        "service": "Web",
        "env": "Dev/PreProduction/blue",
        "infra": "dev-cluster@us-east-1",
        "replicas": 2,
    }
    target = probe.calls[0].target
    assert target is not None
    assert (target.service, target.environment, target.infrastructure) == ("web", "dev", "fargate")
    assert (target.cluster, target.region, target.service_name) == ("dev-cluster", "us-east-1", "web")
    assert store.locks() == []  # released at the end of the stage
