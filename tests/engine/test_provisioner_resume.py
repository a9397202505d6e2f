"""A stage's environment.provisioner after a crash: the journal is replayed, the provisioner that
finished is not run again, and later steps still read its outputs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from corral.engine import resume
from corral.store import Store

from .helpers import (
    fast,
    finished_steps,
    pipeline,
    shell,
    stage,
    step,
    wait_until,
    write_project,
)

ENVIRONMENT = "environment:\n  name: Dev\n  identifier: dev\n  type: PreProduction\n"


def test_resume_after_sigkill_keeps_the_provisioner_s_outputs(tmp_path: Path, store: Store) -> None:
    log, started, go, pid = (tmp_path / name for name in ("log", "started", "go", "pid"))
    make = step(
        "make",
        "ShellScriptProvision",
        {
            "source": {
                "type": "Inline",
                "spec": {
                    "script": f'echo make >> {log}; echo \'{{"size": "large"}}\' > "$PROVISIONER_OUTPUT_PATH"'
                },
            }
        },
    )
    use = shell(
        "use",
        f"echo $$ > {pid}; touch {started}; [ -f {go} ] || sleep 30; "
        f'echo "use <+stage.spec.provisioner.steps.make.output.size>" >> {log}',
    )
    body = stage(
        "one",
        [use],
        spec={"environment": {"environmentRef": "dev", "provisioner": {"steps": [make]}}},
    )
    project = write_project(
        tmp_path / "project", pipeline("p", [body]), extra={"environment.yaml": ENVIRONMENT}
    )
    runner = Path(__file__).parent / "crash_runner.py"
    process = subprocess.Popen(
        [sys.executable, str(runner), str(project), "p", store.url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        execution_id = process.stdout.readline().strip()
        wait_until(started.exists, timeout=30)
    finally:
        process.kill()  # SIGKILL: no cleanup of any kind
        process.wait()
    os.killpg(int(pid.read_text()), signal.SIGKILL)  # the script the dead process left running
    assert finished_steps(store, execution_id) == ["one/provisioner/make#1"]

    go.touch()
    execution = resume(execution_id, store=store, options=fast())
    assert execution.status == "Success", execution.error
    assert log.read_text().split("\n")[:2] == ["make", "use large"]  # make ran once
    assert finished_steps(store, execution_id) == ["one/provisioner/make#1", "one/use#1"]
