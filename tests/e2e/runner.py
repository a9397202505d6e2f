"""Run or resume a pipeline of examples/sandbox-demo (or of the project CORRAL_E2E_PROJECT names)
in its own process (the tests kill it with SIGKILL).

python -m tests.e2e.runner run STORE_URL PIPELINE INPUTS_JSON     # prints the execution id
python -m tests.e2e.runner resume STORE_URL EXECUTION_ID
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from corral.aws.poller import PollPolicy
from corral.config import load_project
from corral.engine import EmbeddedExecutor, ExecutorOptions, create_execution
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
# a dead runner's execution and service lock are taken over after `lease` seconds
OPTIONS = {"heartbeat": 0.2, "lease": 1.0, "poll": 0.05, "lock_poll": 0.1, "log_flush": 0.05}


def main() -> None:
    command, url = sys.argv[1:3]
    set_poll_policy(PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05, round_window=30.0))
    project = load_project(os.environ.get("CORRAL_E2E_PROJECT") or DEMO)
    store = Store.open(url)
    if command == "run":
        record = create_execution(project, sys.argv[3], store=store, inputs=json.loads(sys.argv[4]))
        execution_id = record.id
        print(execution_id, flush=True)
    else:
        execution_id = sys.argv[3]
    EmbeddedExecutor(store, project, ExecutorOptions(**OPTIONS)).run(execution_id)


if __name__ == "__main__":
    main()
