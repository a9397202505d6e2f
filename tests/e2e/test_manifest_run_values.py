"""Expressions in a manifest's text that only a running pipeline can answer
(`<+pipeline.variables.x>`, `<+pipeline.sequenceId>`, `<+stage.identifier>`) are filled in when
the step sends the request; one that has no value fails the step before anything is created.
Harness users write these in their service definitions (a release tag, an environment label)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from corral.config import load_project
from corral.engine import EmbeddedExecutor, create_execution, get_execution
from corral.errors import ConfigError
from corral.sandbox import Sandbox

from .conftest import CLUSTER, DEMO, Demo, fast_options

RELEASE_TAGS = """tags:
  - key: release
    value: <+pipeline.variables.release>
  - key: run
    value: run-<+pipeline.sequenceId>-<+stage.identifier>
"""


def _project(tmp_path: Path, variable: str) -> Path:
    """The demo project whose web service's definition tags the service from pipeline values, and
    whose rolling pipeline declares `variable` as a run-time input."""
    project = tmp_path / "project"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
    request = project / "files" / "account" / "web" / "CreateServiceRequest.yaml"
    request.write_text(request.read_text(encoding="utf-8") + RELEASE_TAGS, encoding="utf-8")
    pipeline_file = project / "pipelines" / "rolling.yaml"
    document = yaml.safe_load(pipeline_file.read_text(encoding="utf-8"))
    document["pipeline"]["variables"] = [{"name": variable, "type": "String", "value": "<+input>"}]
    pipeline_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return project


def _tags(sandbox: Sandbox) -> dict[str, str]:
    ecs = sandbox.client("ecs")
    arn = ecs.describe_services(cluster=CLUSTER, services=["demo-web"])["services"][0]["serviceArn"]
    return {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}


@pytest.mark.sandbox(speed=60)
def test_pipeline_values_in_a_manifest_reach_aws(demo: Demo, tmp_path: Path) -> None:
    demo.project = load_project(_project(tmp_path, "release"))
    # typed at run time: data, sent as typed, never evaluated
    execution = demo.run("demo_rolling", tag="1", release="r-42 <+pipeline.name>")
    assert execution.status == "Success", execution.error
    assert _tags(demo.sandbox) == {"release": "r-42 <+pipeline.name>", "run": "run-1-deploy"}


def _nothing_created(demo: Demo) -> None:
    ecs = demo.client("ecs")
    services = ecs.describe_services(cluster=CLUSTER, services=["demo-web"])["services"]
    assert [s["status"] for s in services] in ([], ["INACTIVE"]), "nothing was created"
    assert ecs.list_task_definitions(familyPrefix="demo-web")["taskDefinitionArns"] == []


@pytest.mark.sandbox(speed=60)
def test_a_pipeline_value_that_does_not_exist_stops_the_run_before_it_starts(
    demo: Demo, tmp_path: Path
) -> None:
    """The start renders every stage's service: a variable the pipeline does not declare is
    refused there (config/run_value_checks.py), before the first stage."""
    demo.project = load_project(_project(tmp_path, "other"))  # the manifest reads `release`
    with pytest.raises(ConfigError) as refused:
        demo.run("demo_rolling", tag="1", other="x")
    assert (
        "files/account/web/CreateServiceRequest.yaml: tags[0].value: reads pipeline variable 'release', "
        "which the pipeline does not declare (it has: other)"
    ) in str(refused.value)
    _nothing_created(demo)


@pytest.mark.sandbox(speed=60)
def test_a_manifest_changed_after_the_start_fails_the_step_before_aws_changes(
    demo: Demo, tmp_path: Path
) -> None:
    """The stage renders its service again when it starts: a manifest edited after the run's
    start to read an undeclared variable fails the ECS step, before anything is created."""
    root = _project(tmp_path, "other")
    request = root / "files" / "account" / "web" / "CreateServiceRequest.yaml"
    edited = request.read_text(encoding="utf-8")
    request.write_text(edited.replace(RELEASE_TAGS, ""), encoding="utf-8")
    demo.project = load_project(root)
    record = create_execution(
        demo.project, "demo_rolling", store=demo.store, inputs=demo.inputs("demo_rolling", tag="1", other="x")
    )
    request.write_text(edited, encoding="utf-8")
    EmbeddedExecutor(demo.store, demo.project, fast_options()).run(record.id)
    execution = get_execution(record.id, store=demo.store)
    assert execution.status == "Failed"
    assert "pipeline.variables.release" in (execution.error or ""), execution.error
    _nothing_created(demo)
