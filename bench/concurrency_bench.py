"""Memory of many concurrent deployments in one process: 200 `rolling_deploy` calls at once.

Run: python bench/concurrency_bench.py [--deployments 200] [--speed 10]
Writes bench/results/concurrency.json and bench/results/concurrency.md.

A `corral sandbox` subprocess (throttling off, and Corral's client-side budget unlimited) and this process running the deployments in
threads (one StepContext each; they share the process's clients, pollers and rate budget): each
creates a Fargate service of 2 tasks. Measured: this process's peak RSS (getrusage RUSAGE_SELF,
which includes the interpreter, boto3 and the loaded service models), wall time, and the ECS calls.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import write
from deploy_tools import REGION, SandboxProcess, network_of, service_definition, task_definition


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=200)
    parser.add_argument("--speed", type=float, default=10.0)
    args = parser.parse_args()

    from corral.aws.budget import RateBudget
    from corral.aws.clients import AwsSettings, Clients
    from corral.aws.ecs_limits import BUCKETS
    from corral.ecs.context import StepContext
    from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
    from corral.ecs.target import EcsTarget

    with SandboxProcess(speed=args.speed, throttling=False) as sandbox:
        sandbox.client("ecs").create_cluster(clusterName="many")
        network = network_of(sandbox)
        settings = AwsSettings(
            region=REGION, endpoint_url=sandbox.endpoint, access_key_id="testing", secret_access_key="testing"
        )
        # the sandbox does not throttle here, and neither does Corral's client-side budget: all 200
        # deployments are past RegisterTaskDefinition and waiting together, the case that costs memory
        unlimited = {name: (1e9, 1e9) for name in BUCKETS}
        clients = Clients(settings, budget=RateBudget(limits=unlimited))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        failures: list[str] = []
        seq = sandbox.last_seq()

        def deploy(i: int) -> None:
            name = f"svc-{i:03d}"
            target = EcsTarget(
                cluster="many",
                service_definition=service_definition(name, network, 2),
                task_definition=task_definition(name, "app:1"),
            )
            try:
                rolling_deploy(StepContext.with_timeout(clients, 900), target, RollingDeployOptions())
            except Exception as exc:  # counted and reported
                failures.append(f"{name}: {exc}")

        started = time.monotonic()
        threads = [threading.Thread(target=deploy, args=(i,)) for i in range(args.deployments)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        calls = Counter(c["operation"] for c in sandbox.calls_since(seq))

    rows: list[dict[str, Any]] = [
        {
            "metric": "concurrent rolling_deploy calls, sandbox speed",
            "value": f"{args.deployments}, {args.speed:g}x, throttling off",
        },
        {
            "metric": "deployments that succeeded",
            "value": f"{args.deployments - len(failures)}/{args.deployments}",
        },
        {
            "metric": "peak RSS of the deploying process (MiB)",
            "value": round(peak, 1),
            "target": "≤ 150 MiB",
            "met": peak <= 150,
        },
        {
            "metric": "RSS before the deployments: interpreter and imports, no client yet (MiB)",
            "value": round(before, 1),
        },
        {"metric": "wall time (s)", "value": round(wall, 1)},
        {
            "metric": "DescribeServices calls (shared poller, 10 services a call)",
            "value": calls.get("DescribeServices", 0),
        },
    ]
    path = write(
        "concurrency",
        f"{args.deployments} concurrent deployments in one process",
        rows,
        {"calls": dict(calls), "failures": failures[:5]},
    )
    print(path.read_text())
    print(json.dumps(dict(calls)))


if __name__ == "__main__":
    main()
