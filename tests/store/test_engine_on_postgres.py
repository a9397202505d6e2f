"""A pipeline run, an abort and a resume against PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from corral.engine import resume, run_pipeline
from corral.store import Store
from tests.engine.helpers import fast, finished_steps, pipeline, shell, stage, write_project


def test_a_pipeline_runs_and_replays_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    store = Store.open(postgres_url)
    try:
        doc = pipeline(
            "p",
            [
                stage(
                    "s",
                    [
                        shell("a", 'X=1; echo "a"', spec={"outputVariables": [{"name": "x", "value": "X"}]}),
                        shell("b", "exit 1"),
                    ],
                    [shell("undo", "echo undo")],
                )
            ],
        )
        execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
        assert execution.status == "Failed"
        assert finished_steps(store, execution.id) == ["s/a#1", "s/b#1", "s/rollback/undo#1"]
        assert execution.step("a").outputs == {"x": "1"}
        assert [line.message for line in store.logs(execution.id, step_key="s/a")] == ["a"]
        assert resume(execution.id, store=store, options=fast()).status == "Failed"  # ended: nothing to do
    finally:
        store.close()
