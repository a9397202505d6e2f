"""Templates (`template:` documents) and their uses (`template: templateRef:`) as the project loads.

Each rule of docs/configuration.md "Templates": which version a use takes (explicit, stable,
the only one), what is an error (missing template or version, a cycle, a template of the wrong
kind, templateInputs for a field that is not `<+input>`), where problems are reported (the use,
or the template's own file), and the resolved pipeline each kind of template gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from corral.config import load_project
from corral.config.validation import validate_project
from corral.errors import ConfigError


def shell_template(version: str, script: str, *, env_value: str = "<+input>") -> dict[str, Any]:
    """A ShellScript step template whose environment variable WHO is a run-time input."""
    return {
        "template": {
            "name": "Say",
            "identifier": "say",
            "versionLabel": version,
            "type": "Step",
            "spec": {
                "type": "ShellScript",
                "timeout": "1m",
                "spec": {
                    "shell": "Bash",
                    "onDelegate": True,
                    "source": {"type": "Inline", "spec": {"script": script}},
                    "environmentVariables": [{"name": "WHO", "type": "String", "value": env_value}],
                    "outputVariables": [],
                },
            },
        }
    }


def step_use(identifier: str, ref: str, version: str | None = None, **inputs: Any) -> dict[str, Any]:
    link: dict[str, Any] = {"templateRef": ref}
    if version is not None:
        link["versionLabel"] = version
    if inputs:
        link["templateInputs"] = inputs
    return {"step": {"name": identifier, "identifier": identifier, "template": link}}


def who(value: str) -> dict[str, Any]:
    """templateInputs giving WHO a value (or leaving it `<+input>`)."""
    return {
        "type": "ShellScript",
        "spec": {"environmentVariables": [{"name": "WHO", "type": "String", "value": value}]},
    }


def custom_stage(identifier: str, steps: list[Any]) -> dict[str, Any]:
    return {
        "stage": {
            "name": identifier,
            "identifier": identifier,
            "type": "Custom",
            "spec": {"execution": {"steps": steps}},
        }
    }


def pipeline(stages: list[Any], identifier: str = "p") -> dict[str, Any]:
    return {"pipeline": {"name": identifier, "identifier": identifier, "stages": stages}}


def write(
    root: Path, *, templates: list[dict[str, Any]], pipelines: list[dict[str, Any]], settings: str = ""
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "corral.yaml").write_text(f"project:\n  name: t\n{settings}", encoding="utf-8")
    # pipelines in a file read before the templates' (sorted names): templates load first anyway
    (root / "a_pipelines.yaml").write_text(yaml.safe_dump_all(pipelines, sort_keys=False), encoding="utf-8")
    (root / "templates.yaml").write_text(yaml.safe_dump_all(templates, sort_keys=False), encoding="utf-8")
    return root


def steps_of(root: Path, pipeline_id: str = "p", stage: int = 0) -> list[dict[str, Any]]:
    raw = load_project(root).pipelines[pipeline_id].raw["pipeline"]
    return [item["step"] for item in raw["stages"][stage]["stage"]["spec"]["execution"]["steps"]]


def problems(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_project(root)
    return [str(problem) for problem in error.value.problems]


TWO_VERSIONS = [shell_template("1", "echo one $WHO"), shell_template("2", "echo two $WHO")]


def test_a_use_takes_the_version_it_names_with_its_template_inputs(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **who("world"))])])],
    )
    [step] = steps_of(root)
    assert step["name"] == step["identifier"] == "a"  # the use's own, not the template's
    assert step["type"] == "ShellScript" and step["timeout"] == "1m"
    assert step["spec"]["source"]["spec"]["script"] == "echo one $WHO"
    assert step["spec"]["environmentVariables"] == [{"name": "WHO", "type": "String", "value": "world"}]
    assert "template" not in step


def test_a_use_without_version_takes_the_stable_one_named_in_corral_yaml(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", None, **who("x"))])])],
        settings="  templates:\n    stable:\n      say: 2\n",
    )
    assert steps_of(root)[0]["spec"]["source"]["spec"]["script"] == "echo two $WHO"
    # promoting another version changes every use that always takes the stable one
    (root / "corral.yaml").write_text("project:\n  name: t\n  templates: {stable: {say: '1'}}\n")
    assert steps_of(root)[0]["spec"]["source"]["spec"]["script"] == "echo one $WHO"


def test_a_use_without_version_of_a_template_with_one_version_takes_it(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=[TWO_VERSIONS[1]],
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", **who("x"))])])],
    )
    assert steps_of(root)[0]["spec"]["source"]["spec"]["script"] == "echo two $WHO"


def test_several_versions_and_none_stable_is_an_error_at_the_use(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", **who("x"))])])],
    )
    assert problems(root) == [
        "a_pipelines.yaml:16: pipeline.stages[0].stage.spec.execution.steps[0].step.template.templateRef: "
        "template 'say' has versions 1, 2 and none is named stable: write versionLabel, or name the "
        "stable one in corral.yaml (project.templates.stable.say)"
    ]


def test_a_missing_version_is_an_error_naming_the_use_and_the_template(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "3", **who("x"))])])],
    )
    assert problems(root) == [
        "a_pipelines.yaml:17: pipeline.stages[0].stage.spec.execution.steps[0].step.template.versionLabel: "
        "template 'say' has no version '3'; its versions: 1, 2"
    ]


def test_a_missing_template_is_an_error_naming_the_use(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "account.sya", "1")])])],
    )
    assert problems(root) == [
        "a_pipelines.yaml:16: pipeline.stages[0].stage.spec.execution.steps[0].step.template.templateRef: "
        "template 'account.sya' not found; did you mean 'say'?"
    ]


def test_a_stable_version_corral_yaml_names_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **who("x"))])])],
        settings="  templates:\n    stable: {say: '7'}\n",
    )
    report = validate_project(root)
    assert [str(p) for p in report.problems] == [
        "corral.yaml: project.templates.stable.say: template 'say' has no version '7'; its versions: 1, 2"
    ]


def test_account_and_org_prefixes_name_the_projects_own_templates(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[
            pipeline(
                [
                    custom_stage(
                        "s",
                        [
                            step_use("a", "account.say", "1", **who("x")),
                            step_use("b", "org.say", "2", **who("y")),
                        ],
                    )
                ]
            )
        ],
    )
    assert [s["spec"]["source"]["spec"]["script"] for s in steps_of(root)] == [
        "echo one $WHO",
        "echo two $WHO",
    ]


def test_template_inputs_give_values_only_to_run_time_inputs(tmp_path: Path) -> None:
    inputs = {"type": "ShellScript", "spec": {"source": {"type": "Inline", "spec": {"script": "rm -rf /"}}}}
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **inputs)])])],
    )
    assert problems(root) == [
        "a_pipelines.yaml:24: pipeline.stages[0].stage.spec.execution.steps[0].step.template.templateInputs"
        ".spec.source.spec.script: not a run-time input of template 'say' version '1' (its value there is "
        "'echo one $WHO')"
    ]


def test_an_input_left_to_run_time_is_asked_for_where_the_use_left_it(tmp_path: Path) -> None:
    from corral.engine.inputs import pipeline_inputs

    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **who("<+input>"))])])],
    )
    report = validate_project(root)
    assert report.ok, report.problems
    path = "pipeline.stages[0].stage.spec.execution.steps[0].step.spec.environmentVariables[0].value"
    [line] = report.inputs
    assert (line.path, line.where) == (path, "a_pipelines.yaml:24")  # the use's <+input>, not the template's
    project = load_project(root)
    with pytest.raises(ConfigError, match="missing required input"):
        pipeline_inputs(project, "p")
    filled = pipeline_inputs(project, "p", inputs={"environmentVariables[0].value": "run-time value"})
    step = filled.raw["stages"][0]["stage"]["spec"]["execution"]["steps"][0]["step"]
    assert step["spec"]["environmentVariables"][0]["value"] == "run-time value"


def test_a_template_input_not_given_stays_a_run_time_input(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1")])])],
    )
    report = validate_project(root)
    assert report.ok, report.problems
    [line] = report.inputs
    assert line.where == "templates.yaml:19"  # the template's own <+input>


def test_templates_that_use_each_other_in_a_cycle_are_an_error(tmp_path: Path) -> None:
    def group(identifier: str, uses: str) -> dict[str, Any]:
        inner = {
            "stepGroup": {
                "name": "g",
                "identifier": "g",
                "template": {"templateRef": uses, "versionLabel": "1"},
            }
        }
        return {
            "template": {
                "name": identifier,
                "identifier": identifier,
                "versionLabel": "1",
                "type": "StepGroup",
                "spec": {"stageType": "Custom", "steps": [inner]},
            }
        }

    use = {
        "stepGroup": {
            "name": "top",
            "identifier": "top",
            "template": {"templateRef": "a", "versionLabel": "1"},
        }
    }
    root = write(
        tmp_path,
        templates=[group("a", "b"), group("b", "a")],
        pipelines=[pipeline([custom_stage("s", [use])])],
    )
    found = problems(root)
    assert found == [
        "templates.yaml:28: template.spec.steps[0].stepGroup.template.templateRef: templates use each other "
        "in a cycle: 'a' version '1' → 'b' version '1' → 'a' version '1'"
    ]
    # validate reports the cycle of each template once, where it closes
    report = validate_project(root)
    assert {p.message.split(": ", 1)[1] for p in report.problems} == {
        "'a' version '1' → 'b' version '1' → 'a' version '1'",
        "'b' version '1' → 'a' version '1' → 'b' version '1'",
    }


def test_a_template_of_another_kind_is_an_error_at_the_use(tmp_path: Path) -> None:
    use = {"stage": {"name": "s", "identifier": "s", "template": {"templateRef": "say", "versionLabel": "1"}}}
    root = write(tmp_path, templates=TWO_VERSIONS, pipelines=[pipeline([use])])
    assert problems(root) == [
        "a_pipelines.yaml:9: pipeline.stages[0].stage.template.templateRef: template 'say' version '1' "
        "is a Step template; here a Stage template is needed"
    ]


def test_validate_checks_each_template_alone(tmp_path: Path) -> None:
    broken = shell_template("3", "echo three")
    broken["template"]["spec"]["type"] = "ShellScrpt"
    root = write(
        tmp_path,
        templates=[*TWO_VERSIONS, broken],
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **who("x"))])])],
    )
    load_project(root)  # no pipeline uses version 3: the project loads
    report = validate_project(root)
    assert [str(p) for p in report.problems] == [
        "templates.yaml:49: template.spec.type: unknown step type 'ShellScrpt'; did you mean 'ShellScript'?"
    ]


def test_a_problem_inside_a_used_template_is_reported_once_in_the_template(tmp_path: Path) -> None:
    broken = shell_template("1", "echo one")
    broken["template"]["spec"]["timeout"] = {"not": "a duration"}
    root = write(
        tmp_path,
        templates=[broken],
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **who("x"))])])],
    )
    report = validate_project(root)
    assert [str(p) for p in report.problems] == [
        "templates.yaml:8: template.spec.timeout: expected a string, got a mapping"
    ]


STAGE_TEMPLATE = {
    "template": {
        "name": "Stage",
        "identifier": "stage_tpl",
        "versionLabel": "v1",
        "type": "Stage",
        "spec": {
            "type": "Custom",
            "spec": {
                "execution": {
                    "steps": [
                        {
                            "stepGroup": {
                                "name": "g",
                                "identifier": "g",
                                "template": {"templateRef": "org.group_tpl", "versionLabel": "v1"},
                            }
                        }
                    ]
                }
            },
            "variables": [{"name": "color", "type": "String", "value": "<+input>"}],
        },
    }
}
GROUP_TEMPLATE = {
    "template": {
        "name": "Group",
        "identifier": "group_tpl",
        "versionLabel": "v1",
        "type": "StepGroup",
        "spec": {
            "stageType": "Custom",
            "steps": [step_use("inner", "say", "2", **who("from the group"))],
        },
    }
}
PIPELINE_TEMPLATE = {
    "template": {
        "name": "Golden",
        "identifier": "golden",
        "versionLabel": "1.0",
        "type": "Pipeline",
        "spec": {
            "stages": [
                {
                    "stage": {
                        "name": "only",
                        "identifier": "only",
                        "template": {"templateRef": "stage_tpl", "versionLabel": "v1"},
                    }
                }
            ]
        },
    }
}


def test_stage_step_group_and_pipeline_templates_resolve_inside_each_other(tmp_path: Path) -> None:
    use = {
        "pipeline": {
            "name": "From template",
            "identifier": "golden_use",
            "orgIdentifier": "default",
            "projectIdentifier": "x",
            "template": {
                "templateRef": "account.golden",
                "versionLabel": "1.0",
                "templateInputs": {
                    "stages": [
                        {
                            "stage": {
                                "identifier": "only",
                                "template": {
                                    "templateInputs": {
                                        "type": "Custom",
                                        "variables": [{"name": "color", "type": "String", "value": "blue"}],
                                    }
                                },
                            }
                        }
                    ]
                },
            },
        }
    }
    root = write(
        tmp_path,
        templates=[*TWO_VERSIONS, GROUP_TEMPLATE, STAGE_TEMPLATE, PIPELINE_TEMPLATE],
        pipelines=[use],
    )
    report = validate_project(root)
    assert report.ok and not report.inputs, report.problems
    raw = load_project(root).pipelines["golden_use"].raw["pipeline"]
    assert (raw["name"], raw["identifier"]) == ("From template", "golden_use")
    [element] = raw["stages"]
    stage = element["stage"]
    assert (stage["identifier"], stage["type"]) == ("only", "Custom")
    assert stage["variables"] == [{"name": "color", "type": "String", "value": "blue"}]
    [group] = stage["spec"]["execution"]["steps"]
    assert group["stepGroup"]["identifier"] == "g" and "stageType" not in group["stepGroup"]
    [inner] = group["stepGroup"]["steps"]
    assert inner["step"]["spec"]["source"]["spec"]["script"] == "echo two $WHO"
    assert inner["step"]["spec"]["environmentVariables"][0]["value"] == "from the group"


def test_a_step_group_template_for_deployment_stages_in_a_custom_stage_is_an_error(tmp_path: Path) -> None:
    group = yaml.safe_load(yaml.safe_dump(GROUP_TEMPLATE))
    group["template"]["spec"]["stageType"] = "Deployment"
    use = {
        "stepGroup": {
            "name": "g",
            "identifier": "g",
            "template": {"templateRef": "group_tpl", "versionLabel": "v1"},
        }
    }
    root = write(tmp_path, templates=[*TWO_VERSIONS, group], pipelines=[pipeline([custom_stage("s", [use])])])
    assert problems(root) == [
        "a_pipelines.yaml:16: pipeline.stages[0].stage.spec.execution.steps[0].stepGroup.template.templateRef: "
        "template 'group_tpl' version 'v1' is for Deployment stages; this stage is Custom"
    ]


def test_a_use_may_not_carry_a_spec_of_its_own(tmp_path: Path) -> None:
    use = step_use("a", "say", "1", **who("x"))
    use["step"]["spec"] = {"shell": "Bash"}
    root = write(tmp_path, templates=TWO_VERSIONS, pipelines=[pipeline([custom_stage("s", [use])])])
    [problem] = problems(root)
    assert problem.startswith(
        "a_pipelines.yaml:25: pipeline.stages[0].stage.spec.execution.steps[0].step.spec: unknown field of a "
        "step that uses a template; expected one of name, identifier, description, template,"
    )


def test_an_input_set_written_as_harness_writes_it_for_a_template_fills_the_use(tmp_path: Path) -> None:
    from corral.engine.inputs import pipeline_inputs

    use = {
        "stage": {
            "name": "t",
            "identifier": "t",
            "template": {"templateRef": "stage_tpl", "versionLabel": "v1"},
        }
    }
    variables = [{"name": "color", "type": "String", "value": "blue"}]
    input_set = {
        "inputSet": {
            "name": "Blue",
            "identifier": "blue",
            "pipeline": {
                "identifier": "p",
                "stages": [
                    {
                        "stage": {
                            "identifier": "t",
                            "template": {"templateInputs": {"type": "Custom", "variables": variables}},
                        }
                    }
                ],
            },
        }
    }
    root = write(
        tmp_path,
        templates=[*TWO_VERSIONS, GROUP_TEMPLATE, STAGE_TEMPLATE],
        pipelines=[pipeline([use]), input_set],
    )
    report = validate_project(root)
    assert report.ok, report.problems
    filled = pipeline_inputs(load_project(root), "p", input_sets=["blue"])
    assert filled.raw["stages"][0]["stage"]["variables"] == variables


def test_a_bad_expression_in_a_used_template_is_reported_once_in_the_template(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        templates=[shell_template("1", "echo <+broken")],
        pipelines=[
            pipeline(
                [
                    custom_stage(
                        "s", [step_use("a", "say", "1", **who("x")), step_use("b", "say", "1", **who("y"))]
                    )
                ]
            )
        ],
    )
    report = validate_project(root)
    assert [str(p) for p in report.problems] == [
        "templates.yaml:15: template.spec.spec.source.spec.script: '<+' is not closed with '>' in 'echo <+broken'"
    ]


def test_ls_lists_each_template_version(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from corral.cli.main import cli

    root = write(
        tmp_path,
        templates=TWO_VERSIONS,
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1")])])],
    )
    result = CliRunner().invoke(cli, ["ls", "templates", "--project", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [(row["identifier"], row["detail"], row["file"]) for row in json.loads(result.output)] == [
        ("say", "Step versionLabel=1", "templates.yaml:1"),
        ("say", "Step versionLabel=2", "templates.yaml:22"),
    ]


def test_a_use_without_a_name_is_reported_at_the_use(tmp_path: Path) -> None:
    use = step_use("a", "say", "1", **who("x"))
    del use["step"]["name"]
    root = write(tmp_path, templates=TWO_VERSIONS, pipelines=[pipeline([custom_stage("s", [use])])])
    [problem] = problems(root)
    assert problem.startswith(
        "a_pipelines.yaml:12: pipeline.stages[0].stage.spec.execution.steps[0].step.name: "
    ), problem


def test_template_inputs_that_are_not_a_mapping_are_an_error(tmp_path: Path) -> None:
    use = step_use("a", "say", "1")
    use["step"]["template"]["templateInputs"] = "<+input>"
    root = write(tmp_path, templates=TWO_VERSIONS, pipelines=[pipeline([custom_stage("s", [use])])])
    assert problems(root) == [
        "a_pipelines.yaml:18: pipeline.stages[0].stage.spec.execution.steps[0].step.template.templateInputs: "
        "expected a mapping: the template's spec down to its <+input> fields, with their values"
    ]


def test_a_template_input_value_must_be_one_the_template_allows(tmp_path: Path) -> None:
    limited = shell_template("1", "echo $WHO", env_value="<+input>.allowedValues(dev,qa)")
    root = write(
        tmp_path,
        templates=[limited],
        pipelines=[pipeline([custom_stage("s", [step_use("a", "say", "1", **who("prod"))])])],
    )
    assert problems(root) == [
        "a_pipelines.yaml:24: pipeline.stages[0].stage.spec.execution.steps[0].step.template.templateInputs"
        ".spec.environmentVariables[0].value: runtime input value 'prod' is not one of the allowed values: "
        "dev, qa (template 'say' version '1')"
    ]
    (root / "a_pipelines.yaml").write_text((root / "a_pipelines.yaml").read_text().replace("prod", "qa"))
    assert steps_of(root)[0]["spec"]["environmentVariables"][0]["value"] == "qa"


def test_templates_that_multiply_past_the_yaml_node_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import corral.config.templates as templates

    # each level uses the one below ten times: 10**3 uses of the step template at the top
    # the real limit, 10**6, takes seconds to reach
    monkeypatch.setattr(templates, "MAX_RESOLVED_NODES", 5_000)

    def group(level: int) -> dict[str, Any]:
        ref = "say" if level == 1 else f"g{level - 1}"
        wrapper = "step" if level == 1 else "stepGroup"
        steps = [{wrapper: _use(f"u{i}", ref)} for i in range(10)]
        spec = {"stageType": "Custom", "steps": steps}
        return {
            "template": {
                "name": "g",
                "identifier": f"g{level}",
                "versionLabel": "1",
                "type": "StepGroup",
                "spec": spec,
            }
        }

    def _use(identifier: str, ref: str) -> dict[str, Any]:
        link = {"templateRef": ref, "versionLabel": "1"} | (
            {"templateInputs": who("x")} if ref == "say" else {}
        )
        return {"name": identifier, "identifier": identifier, "template": link}

    top = {"stepGroup": _use("top", "g3")}
    root = write(
        tmp_path,
        templates=[*TWO_VERSIONS, *(group(level) for level in range(1, 4))],
        pipelines=[pipeline([custom_stage("s", [top])])],
    )
    [problem] = problems(root)
    assert "the templates used here resolve to more than 5,000 YAML nodes" in problem, problem
    monkeypatch.setattr(templates, "MAX_RESOLVED_NODES", 1_000_000)
    load_project(root)  # 10**3 small steps are within the real limit


def test_each_use_of_a_template_has_its_own_template_inputs(tmp_path: Path) -> None:
    inner = step_use("inner", "say", "1", **who("<+input>"))
    group = {
        "template": {
            "name": "G",
            "identifier": "g",
            "versionLabel": "1",
            "type": "StepGroup",
            "spec": {"stageType": "Custom", "steps": [inner]},
        }
    }
    given = {
        "steps": [
            {"step": {"identifier": "inner", "template": {"templateInputs": who("from the first use")}}}
        ]
    }
    first = {
        "stepGroup": {
            "name": "a",
            "identifier": "a",
            "template": {"templateRef": "g", "versionLabel": "1", "templateInputs": given},
        }
    }
    second = {
        "stepGroup": {"name": "b", "identifier": "b", "template": {"templateRef": "g", "versionLabel": "1"}}
    }
    root = write(
        tmp_path, templates=[*TWO_VERSIONS, group], pipelines=[pipeline([custom_stage("s", [first, second])])]
    )
    report = validate_project(root)
    assert report.ok, report.problems
    [line] = report.inputs  # the second use's, open in the step group template itself
    assert line.path.startswith("pipeline.stages[0].stage.spec.execution.steps[1].stepGroup.steps[0]")
    assert line.where.startswith("templates.yaml:"), line.where
    steps = (
        load_project(root).pipelines["p"].raw["pipeline"]["stages"][0]["stage"]["spec"]["execution"]["steps"]
    )
    first_value = steps[0]["stepGroup"]["steps"][0]["step"]["spec"]["environmentVariables"][0]["value"]
    assert first_value == "from the first use"
