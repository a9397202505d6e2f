"""A step whose delegate selectors no connected delegate serves fails at its timeout, naming
the selectors and the delegates that are connected; the stage's failure strategy (a rollback
here) runs as usual."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.server.helpers import ADMIN_TOKEN, Api, shell

from .conftest import StartDelegate, wait_until
from .server_helpers import server_on_temporal


def _gpu_pipeline() -> str:
    train = shell("train", "echo training", delegateSelectors=["gpu"])
    train["step"]["timeout"] = "5s"
    stage = {
        "stage": {
            "name": "Train",
            "identifier": "train",
            "type": "Custom",
            "delegateSelectors": ["prod"],
            "spec": {
                "execution": {
                    "steps": [shell("prepare", "echo preparing"), train],
                    "rollbackSteps": [shell("undo", "echo undoing")],
                }
            },
            "failureStrategies": [
                {"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}
            ],
        }
    }
    return yaml.safe_dump(
        {"pipeline": {"name": "train", "identifier": "train", "stages": [stage]}}, sort_keys=False
    )


def test_a_step_no_delegate_serves_fails_at_its_timeout_and_the_stage_rolls_back(
    tmp_path: Path, temporal: str, delegates: StartDelegate
) -> None:
    with server_on_temporal(tmp_path / "server", temporal) as url:
        admin = Api(url, ADMIN_TOKEN)
        admin.post("/projects", {"name": "ml", "yaml": _gpu_pipeline()}, 201)
        token = admin.post("/delegates", {"name": "cpu-box", "tags": ["prod"]}, 201).json()["token"]
        delegates("cpu-box", None, "--server", url, "--token", token)
        wait_until(lambda: "polling" in (tmp_path / "delegate-cpu-box.err").read_text(), what="the delegate")

        execution_id = admin.post("/projects/ml/pipelines/train/executions", {}, 202).json()["id"]
        execution = admin.wait(execution_id, timeout=60)

        assert execution["status"] == "Failed"
        steps = {s["identifier"]: s for s in execution["steps"]}
        assert [(s["identifier"], s["status"]) for s in execution["steps"]] == [
            ("prepare", "Success"),
            ("train", "Failed"),
            ("undo", "Success"),
        ]
        error = steps["train"]["error"]
        assert error == (
            "No delegate took the step within its timeout (5s): it selects gpu (task queue "
            "corral-steps-gpu); delegates connected: cpu-box (tags: prod)"
        )
        lines = admin.get(f"/executions/{execution_id}/logs", params={"step": steps["train"]["key"]})
        assert [line["message"] for line in lines] == [error]
