"""The server's run form offers the choices of `serviceRef: <+input>`, `environmentRef: <+input>`
and `infrastructureDefinitions: <+input>`, and asks nothing for `serviceInputs: <+input>` and the
like (the chosen entities' own inputs are asked instead). No browser needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from .conftest import DemoServer

CHOSEN = {
    "pipeline": {
        "name": "Chosen",
        "identifier": "chosen",
        "stages": [
            {
                "stage": {
                    "name": "Deploy",
                    "identifier": "deploy",
                    "type": "Deployment",
                    "spec": {
                        "deploymentType": "ECS",
                        "service": {"serviceRef": "<+input>", "serviceInputs": "<+input>"},
                        "environment": {
                            "environmentRef": "<+input>",
                            "deployToAll": False,
                            "environmentInputs": "<+input>",
                            "serviceOverrideInputs": "<+input>",
                            "infrastructureDefinitions": "<+input>",
                        },
                        "execution": {
                            "steps": [
                                {
                                    "step": {
                                        "name": "Rolling",
                                        "identifier": "rolling",
                                        "type": "EcsRollingDeploy",
                                        "timeout": "5m",
                                        "spec": {},
                                    }
                                }
                            ]
                        },
                    },
                }
            }
        ],
    }
}


def test_the_run_form_offers_the_projects_services_environments_and_infrastructures(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    repo = tmp_path / "demo-repo"  # the fixture's Git repository of the project
    (repo / "pipelines" / "chosen.yaml").write_text(yaml.safe_dump(CHOSEN, sort_keys=False), encoding="utf-8")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "chosen"], check=True)
    demo_server.api.post("/projects/demo/sync", {"url": str(repo), "ref": "main"}, 200)

    form = demo_server.api.get("/projects/demo/pipelines/chosen/form")
    found = {field["key"]: field for field in form["fields"]}
    assert list(found) == ["serviceRef", "environmentRef", "infrastructureDefinitions"]
    assert found["serviceRef"]["allowed_values"] == [
        "demo_bg",
        "demo_job",
        "demo_linear",
        "demo_native",
        "demo_web",
    ]
    assert found["environmentRef"]["allowed_values"] == ["sandbox"]
    assert found["infrastructureDefinitions"]["allowed_values"] == ["sandbox"]
    assert all(field["required"] for field in found.values())
