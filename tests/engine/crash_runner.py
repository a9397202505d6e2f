"""Run a pipeline in its own process (the resume test kills it with SIGKILL).

python crash_runner.py PROJECT PIPELINE STORE_URL
"""

from __future__ import annotations

import sys

from corral.config import load_project
from corral.engine import ExecutorOptions, create_execution
from corral.engine.embedded import EmbeddedExecutor
from corral.store import Store


def main() -> None:
    root, pipeline_id, url = sys.argv[1:4]
    project = load_project(root)
    store = Store.open(url)
    record = create_execution(project, pipeline_id, store=store)
    print(record.id, flush=True)
    EmbeddedExecutor(store, project, ExecutorOptions(heartbeat=0.2, poll=0.05, log_flush=0.05)).run(record.id)


if __name__ == "__main__":
    main()
