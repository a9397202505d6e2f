"""A project with templates through the API: the execution shows the resolved steps, and the
pipeline's document is the one written (its template uses), not what they resolve to."""

from __future__ import annotations

import yaml

from tests.config.test_templates import TWO_VERSIONS, custom_stage, pipeline, step_use, who

from .helpers import Api


def test_an_execution_shows_the_resolved_steps_and_the_pipeline_its_uses(admin: Api) -> None:
    used = pipeline([custom_stage("s", [step_use("a", "say", "1", **who("<+input>"))])])
    text = yaml.safe_dump_all([*TWO_VERSIONS, used], sort_keys=False)
    admin.post("/projects", {"name": "tpl", "yaml": text}, 201)

    path = "pipeline.stages[0].stage.spec.execution.steps[0].step.spec.environmentVariables[0].value"
    answer = admin.post("/projects/tpl/pipelines/p/executions", {"inputs": {path: "api"}}, 202).json()
    done = admin.wait(answer["id"])
    assert done["status"] == "Success"
    [step] = done["steps"]
    assert (step["identifier"], step["type"]) == ("a", "ShellScript")  # the template's step type
    lines = admin.get(f"/executions/{answer['id']}/logs", params={"step": step["key"]})
    assert "one api" in [line["message"] for line in lines]

    document = admin.get("/projects/tpl/entities/pipeline/p")["document"]
    [written] = document["pipeline"]["stages"][0]["stage"]["spec"]["execution"]["steps"]
    assert written["step"]["template"]["templateRef"] == "say"
    assert [t["identifier"] for t in admin.get("/projects/tpl/entities", params={"kind": "template"})] == [
        "say",
        "say",
    ]
