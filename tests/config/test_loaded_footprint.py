"""A loaded project keeps its entities, not the YAML node trees they were read from (issue 17:
a project of 200 services in one `corral run`); a line asked for later is still the file's."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.config.helpers import EXAMPLES

# in a process of its own: no other test's YAML nodes are alive there
LOAD_AND_COUNT = f"""
import gc, json, yaml
from corral.config.project import load_project
project = load_project({str(EXAMPLES / "ecs-tutorial")!r})
gc.collect()
nodes = sum(isinstance(o, yaml.Node) for o in gc.get_objects())
infra = project.infrastructures[("ecs_tutorial", "sandbox")]
line = infra.line_of(("infrastructureDefinition", "spec", "networkConfiguration", "subnets", 0))
print(json.dumps({{"nodes": nodes, "line": line, "services": len(project.services)}}))
"""


def test_a_loaded_project_keeps_no_yaml_node_trees_and_still_finds_lines() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_COUNT], capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout)
    assert found["services"] == 4
    assert found["nodes"] == 0
    # the second document of environments/ecs-tutorial.yaml: its first subnet is on line 25
    assert found["line"] == 25
