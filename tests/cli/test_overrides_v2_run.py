"""`corral run` deploys what the Overrides V2 documents say: the corpus project's rolling
pipeline on the sandbox registers the task definition of the Service & Infrastructure
Specific override with the variables of the highest-precedence override, and the ECS service
gets its desired count."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from corral.sandbox import Sandbox

from .helpers import corral

CORPUS = Path(__file__).resolve().parents[1] / "config" / "overrides_v2_project"


def test_run_deploys_the_overridden_task_definition_and_desired_count(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    project = shutil.copytree(CORPUS, tmp_path / "project")
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    result = corral("run", "overrides_rolling", "--project", str(project), *store, *aws, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "Success"

    ecs = sandbox.client("ecs")
    service = ecs.describe_services(cluster="corral-demo", services=["demo-web"])["services"][0]
    assert service["desiredCount"] == 3  # replicas from INFRA_SERVICE_OVERRIDE
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["memory"] == "1024"  # the override's task definition file, not the service's
    environment = {e["name"]: e["value"] for e in task["containerDefinitions"][0]["environment"]}
    assert environment == {
        "GREETING": "from ENV_GLOBAL_OVERRIDE",
        "TIER": "from ENV_SERVICE_OVERRIDE",
        "LEVEL": "from INFRA_SERVICE_OVERRIDE",
        "APP_CONFIG": "bW9kZT1pbmZyYXN0cnVjdHVyZQo=",  # base64 of files/account/config/infrastructure.conf
        "TASK_DEFINITION_FROM": "INFRA_SERVICE_OVERRIDE",
    }
