"""docs/server.md's trigger examples, one per source, are triggers `corral validate` accepts."""

from __future__ import annotations

import re
from pathlib import Path

from tests.artifacts.projects import registry_connector, service, source
from tests.cli.helpers import corral

from .helpers import pipeline, shell

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"
AWS = """connector:
  name: AWS prod
  identifier: aws_prod
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
      region: eu-west-1
"""


def documented_triggers() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Triggers") : text.index("## The web UI")]
    return [
        block for block in re.findall(r"```yaml\n(.*?)```", section, re.S) if block.startswith("trigger:")
    ]


def released(identifier: str) -> str:
    return pipeline(identifier, [shell("say", 'echo "<+pipeline.variables.tag>"')]).replace(
        "  stages:", "  variables:\n  - name: tag\n    type: String\n    value: <+input>\n  stages:"
    )


def test_every_documented_trigger_validates(tmp_path: Path) -> None:
    triggers = documented_triggers()
    sources = set()
    for block in triggers:
        sources.add(
            "serviceRef" if "serviceRef:" in block else re.findall(r"type: (DockerRegistry|Ecr)", block)[0]
        )
    assert sources == {"DockerRegistry", "Ecr", "serviceRef"}
    (tmp_path / "corral.yaml").write_text("project:\n  name: docs\n", encoding="utf-8")
    web = service(source("app", imagePath="team/web", tag="<+input>"), primary="app")
    docs = [registry_connector("https://registry.example.internal"), AWS, web, released("release")]
    (tmp_path / "project.yaml").write_text("---\n".join([*docs, released("release_api")]), encoding="utf-8")
    (tmp_path / "triggers.yaml").write_text("---\n".join(triggers), encoding="utf-8")
    result = corral("validate", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    listed = corral("ls", "trigger", "--project", str(tmp_path))
    for identifier in ("on_web", "on_api", "on_web_service"):
        assert identifier in listed.output


# the shape of Harness's artifact trigger as its documentation writes it (Triggers > "Trigger
# pipelines on a new artifact", DockerRegistry): the conditions Harness writes empty by default
HARNESS_TRIGGER = """trigger:
  name: New web image
  identifier: on_web
  enabled: true
  orgIdentifier: default
  projectIdentifier: docs
  pipelineIdentifier: release
  source:
    type: Artifact
    spec:
      type: DockerRegistry
      spec:
        connectorRef: registry
        imagePath: team/web
        tag: <+trigger.artifact.build>
        eventConditions: []
        metaDataConditions: []
        jexlCondition: ""
  inputs:
    tag: <+trigger.artifact.build>
"""


def test_harness_empty_trigger_conditions_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "corral.yaml").write_text("project:\n  name: docs\n", encoding="utf-8")
    docs = [registry_connector("https://registry.example.internal"), released("release")]
    (tmp_path / "project.yaml").write_text("---\n".join(docs), encoding="utf-8")
    (tmp_path / "triggers.yaml").write_text(HARNESS_TRIGGER, encoding="utf-8")
    result = corral("validate", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
