"""A fleet release: 50 services with new task definitions at once, sandbox throttling on.

Run: python bench/fleet_bench.py [--services 50] [--speed 10]   (needs `pip install ecs-deploy`)
Writes bench/results/fleet.json and bench/results/fleet.md.

- Corral: one process, 50 `rolling_deploy` calls in threads sharing the process's pollers and
  rate budget (bench/deploy_tools.py).
- ecs-deploy: 50 `ecs deploy CLUSTER SERVICE --image app IMAGE --no-deregister` processes at once.

Each service has its own task definition family, so a release is 50 RegisterTaskDefinition calls.
Between the two runs the benchmark waits until the sandbox's token buckets are full again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import median, write
from deploy_tools import SandboxProcess, create_services, network_of, run_tool

from corral.aws.ecs_limits import BUCKETS

CLUSTER = "fleet"
REFILL_WAIT = 25.0  # real seconds: the task definition bucket (20 at 1/s) is full again after 20 s

METHOD = """
## Lower bound

The sandbox enforces ECS's token buckets in real time (docs/sandbox.md). Whatever the tool does,
the N RegisterTaskDefinition calls draw from the task definition modify bucket (burst B, refill R
per second), so the last one cannot be answered before (N - B) / R seconds after the first, and
that service's deployment then still takes its own duration D (UpdateService to the sandbox's
steady state; tasks start and settle in sandbox time, scaled by --speed). The other buckets
(UpdateService: 50 burst; DescribeServices: 100 burst, 20/s) do not bind for this release.

    lower bound = (N - B) / R + D

D is the median over the services of this release of (steady-state moment - answered
UpdateService), both from the sandbox's call log and steady-states (sandbox time converted to real
time as in single_deploy.md). Total time is the tool run's wall time from the first process start
to the last process end, interpreter start-up included.
Throttling errors are the calls the sandbox answered `ThrottlingException` (call log outcomes);
a throttling error "reaches the user" when a deployment fails or prints it.
"""


def deployment_durations(
    sandbox: SandboxProcess, calls: list[dict[str, Any]], started_sandbox: float
) -> list[float]:
    """Per service: its last steady state minus the latest answered UpdateService before it (the
    call log does not name the service, so this can only be shorter than the truth: a bound)."""
    update_times = sorted(
        c["time"] for c in calls if c["operation"] == "UpdateService" and c["outcome"] == "ok"
    )
    durations = []
    for record in sandbox.admin.steady_states():
        if record["cluster"] != CLUSTER:
            continue
        times = sandbox.steady_real_times(record["service"], started_sandbox, calls)
        if not times:
            continue
        before = [t for t in update_times if t <= times[-1]]
        if before:
            durations.append(times[-1] - before[-1])
    return durations


def run(sandbox: SandboxProcess, tool: str, names: list[str], image: str, network: str) -> dict[str, Any]:
    env = {**sandbox.env(), "BENCH_NETWORK": network}
    seq = sandbox.last_seq()
    started_sandbox = sandbox.admin.now()
    if tool == "corral":
        args = [
            sys.executable,
            str(Path(__file__).parent / "deploy_tools.py"),
            "corral",
            sandbox.endpoint,
            CLUSTER,
            *names,
            image,
        ]
        result = run_tool(tool, args, env)
        wall, succeeded = result.wall, len(result.done_at)
        outputs = [result.output]
        cpu, rss = result.cpu_seconds, result.peak_rss_mib
    else:
        started = time.time()
        processes = [
            subprocess.Popen(
                [
                    "ecs",
                    "deploy",
                    CLUSTER,
                    name,
                    "--image",
                    "app",
                    image,
                    "--timeout",
                    "900",
                    "--no-deregister",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name in names
        ]
        outputs = [p.communicate()[0] for p in processes]
        wall = time.time() - started
        succeeded = sum(1 for p in processes if p.returncode == 0)
        cpu = rss = float("nan")
    calls = sandbox.calls_since(seq)
    throttled = Counter(c["operation"] for c in calls if c["outcome"] == "ThrottlingException")
    durations = deployment_durations(sandbox, calls, started_sandbox)
    user_saw = sum(
        1 for out in outputs for line in out.splitlines() if "Throttl" in line or "Rate exceeded" in line
    )
    return {
        "tool": tool,
        "services": len(names),
        "succeeded": succeeded,
        "wall": round(wall, 2),
        "throttledCalls": sum(throttled.values()),
        "throttledByOperation": dict(throttled),
        "throttlingLinesShownToUser": user_saw,
        "ecsCalls": sum(1 for c in calls if c["service"] == "ecs"),
        "callsByOperation": dict(Counter(c["operation"] for c in calls)),
        "deploymentDurationMedian": round(median(durations), 2),
        "cpuSeconds": round(cpu, 2),
        "peakRssMiB": round(rss, 1),
        "failures": [o[-600:] for o in outputs if "FAILED" in o or "Error" in o][:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--tools", default="corral,ecs-deploy")
    args = parser.parse_args()
    names = [f"svc-{i:02d}" for i in range(args.services)]
    burst, refill = BUCKETS["task-definition-modify"]
    results = []
    with SandboxProcess(speed=args.speed, throttling=True) as sandbox:
        create_services(sandbox, CLUSTER, names, "app:0")
        network = json.dumps(network_of(sandbox))
        for number, tool in enumerate(args.tools.split(","), start=1):
            time.sleep(REFILL_WAIT)  # every bucket full again: each tool starts from the same budget
            result = run(sandbox, tool, names, f"app:{number}", network)
            bound = max(0.0, (args.services - burst) / refill) + result["deploymentDurationMedian"]
            result["lowerBound"] = round(bound, 2)
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "failures"}), flush=True)
    rows: list[dict[str, Any]] = [
        {"metric": "services, sandbox speed", "value": f"{args.services}, {args.speed:g}x, throttling on"}
    ]
    for r in results:
        tool = r["tool"]
        is_corral = tool == "corral"
        ratio = r["wall"] / r["lowerBound"]
        rows += [
            {
                "metric": f"{tool}: deployments that succeeded",
                "value": f"{r['succeeded']}/{r['services']}",
                **(
                    {"target": f"{r['services']}/{r['services']}", "met": r["succeeded"] == r["services"]}
                    if is_corral
                    else {}
                ),
            },
            {"metric": f"{tool}: throttling errors the sandbox answered", "value": r["throttledCalls"]},
            {
                "metric": f"{tool}: throttling errors shown to the user (failed deployments or printed)",
                "value": r["throttlingLinesShownToUser"] + (r["services"] - r["succeeded"]),
                **(
                    {
                        "target": "0",
                        "met": r["throttlingLinesShownToUser"] == 0 and r["succeeded"] == r["services"],
                    }
                    if is_corral
                    else {}
                ),
            },
            {"metric": f"{tool}: total time (s)", "value": r["wall"]},
            {
                "metric": f"{tool}: lower bound (s) = ({r['services']} - {burst:g}) / {refill:g} + D {r['deploymentDurationMedian']}",
                "value": r["lowerBound"],
            },
            {
                "metric": f"{tool}: total time / lower bound",
                "value": f"{ratio:.2f}",
                **({"target": "≤ 1.25", "met": ratio <= 1.25} if is_corral else {}),
            },
            {"metric": f"{tool}: ECS calls", "value": r["ecsCalls"]},
        ]
        if is_corral:
            rows += [
                {"metric": "corral: CPU seconds", "value": r["cpuSeconds"]},
                {"metric": "corral: peak RSS (MiB)", "value": r["peakRssMiB"]},
            ]
    path = write(
        "fleet", f"Fleet release: {args.services} services at once, throttling on", rows, {"results": results}
    )
    with path.open("a") as out:
        out.write(METHOD)
    print(path.read_text())


if __name__ == "__main__":
    main()
