"""`corral sandbox --demo`: the demo's AWS resources in a running sandbox, and its inputs on disk.

    written = prepare_demo_project(sandbox, project_dir)   # -> {pipeline id: inputs file}

Creates what examples/sandbox-demo deploys into (`prepare_sandbox`), gives the sandbox the
demo's image behaviours (`corral demo` sets the same ones) and writes, per pipeline, a file
`corral run PIPELINE --inputs-file FILE` reads: the subnet, security group, listeners, rules and
roles the sandbox just created, plus the Http checks' `url` (the sandbox's own health page, a
stand-in for the new revision: the sandbox simulates tasks and serves no traffic for them).
The files go under the project's `.corral/` folder, which the project loader skips and git
ignores, since their ids change with every fresh sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .prepare import pipeline_inputs, prepare_sandbox

INPUTS_FOLDER = Path(".corral") / "sandbox-inputs"
# the behaviours `corral demo` gives the sandbox: a tag that crashes (to rehearse a rollback)
# and the run task's job, which exits 0
DEMO_IMAGES = (
    {"image": "*:broken", "crashAfter": 2},
    {"image": "*/demo/job:*", "exitCode": 0, "exitAfter": 5},
)
CHECKED_PIPELINES = ("demo_native", "demo_verify")  # their Http step reads input `url`


def inputs_file(project_dir: Path, pipeline_id: str) -> Path:
    return project_dir / INPUTS_FOLDER / f"{pipeline_id}.yaml"


def prepare_demo_project(sandbox: Any, project_dir: Path) -> dict[str, Path]:
    """Prepare `sandbox` (a started corral.sandbox.Sandbox) for the demo project; write its inputs."""
    from corral.config.project import load_project

    project = load_project(project_dir)
    sandbox.admin.set_images(*DEMO_IMAGES)
    prepared = prepare_sandbox(sandbox)  # its boto3 clients
    health = f"{sandbox.endpoint_url}/_sandbox/health"
    written: dict[str, Path] = {}
    for pipeline_id in sorted(project.pipelines):
        inputs: dict[str, Any] = pipeline_inputs(prepared, pipeline_id)
        if pipeline_id in CHECKED_PIPELINES:
            inputs["url"] = health
        path = inputs_file(project_dir, pipeline_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# written by `corral sandbox --demo` for {sandbox.endpoint_url}; rewritten at each start\n"
        path.write_text(header + yaml.safe_dump(inputs, sort_keys=True), encoding="utf-8")
        written[pipeline_id] = path
    return written
