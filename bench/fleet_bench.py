"""A fleet release: 50 services with new task definitions at once, sandbox throttling on.

Run: python bench/fleet_bench.py [--services 50] [--speed 10]   (needs `pip install ecs-deploy`)
Writes bench/results/fleet.json and bench/results/fleet.md.

- Corral: one process, 50 `rolling_deploy` calls in threads sharing the process's pollers and
  rate budget (bench/deploy_tools.py), with Corral's default budget (corral.aws.budget: ECS's
  whole buckets, adapting to throttling).
- ecs-deploy: 50 `ecs deploy CLUSTER SERVICE --image app IMAGE --no-deregister` processes at once.

Each service has its own task definition family, so a release is 50 RegisterTaskDefinition calls.
Between the two runs the benchmark waits until the sandbox's token buckets are full again.
"""

from __future__ import annotations

import argparse
import json
import os
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

D is the median over the services of this release of (the sandbox's steady-state moment - the
creation of its PRIMARY deployment), both ECS timestamps in sandbox time, divided by --speed.
Total time is the tool run's wall time from the first process start to the last process end,
interpreter start-up included.

Corral runs with its default rate budget (corral.aws.budget): ECS's whole burst and refill,
adaptive (a throttle empties Corral's bucket, repeated throttles lower its refill share, successes
raise it back), so the target is against the true token-bucket bound above. `--tools` also
accepts `corral-full-budget`: explicit `RateBudget(refill_share=1, burst_share=1)`, which are now
the default shares, so it is not run by default.
Throttling errors are the calls the sandbox answered `ThrottlingException` (call log outcomes);
one "reaches the user" when a deployment's output shows it (ecs-deploy prints boto3's error and
fails that deployment).
"""


def deployment_durations(sandbox: SandboxProcess, names: list[str], started_sandbox: float) -> list[float]:
    """Per service, in real seconds: from its PRIMARY deployment's creation to its last steady
    state, both in sandbox time (ECS's own timestamps), divided by the speed."""
    ecs = sandbox.client("ecs")
    created: dict[str, float] = {}
    for i in range(0, len(names), 10):
        for service in ecs.describe_services(cluster=CLUSTER, services=names[i : i + 10])["services"]:
            primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
            created[service["serviceName"]] = primary["createdAt"].timestamp()
    durations = []
    for record in sandbox.admin.steady_states():
        name = record["service"]
        if record["cluster"] == CLUSTER and name in created:
            after = [t for t in record["steadyAt"] if t > max(started_sandbox, created[name])]
            if after:
                durations.append((after[-1] - created[name]) / sandbox.speed)
    return durations


def run(sandbox: SandboxProcess, tool: str, names: list[str], image: str, network: str) -> dict[str, Any]:
    env = {**sandbox.env(), "BENCH_NETWORK": network}
    seq = sandbox.last_seq()
    load_before = os.getloadavg()
    started_sandbox = sandbox.admin.now()
    if tool.startswith("corral"):
        if tool == "corral-full-budget":
            env["BENCH_BUDGET"] = "full"
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
    durations = deployment_durations(sandbox, names, started_sandbox)
    # deployments whose user saw a throttling error: per line of Corral's one process (it names the
    # service), per process for ecs-deploy (one deployment each)
    lines = [line for out in outputs for line in (out.splitlines() if tool.startswith("corral") else [out])]
    user_saw = sum(1 for line in lines if "Throttl" in line or "Rate exceeded" in line)
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
        # the machine is shared (2 cores): a high load stretches every tool's wall time
        "loadAverageBefore": [round(x, 2) for x in load_before],
        "loadAverageAfter": [round(x, 2) for x in os.getloadavg()],
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
        is_corral = tool.startswith("corral")
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
                "metric": f"{tool}: deployments whose output shows a throttling error",
                "value": r["throttlingLinesShownToUser"],
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
                **({"target": "≤ 1.25", "met": ratio <= 1.25} if tool == "corral" else {}),
            },
            {"metric": f"{tool}: ECS calls", "value": r["ecsCalls"]},
            {
                "metric": f"{tool}: load average 1/5/15 min, before / after its run",
                "value": " / ".join(
                    ", ".join(f"{x:.2f}" for x in r[k]) for k in ("loadAverageBefore", "loadAverageAfter")
                ),
            },
        ]
        if is_corral:
            rows += [
                {"metric": f"{tool}: CPU seconds", "value": r["cpuSeconds"]},
                {"metric": f"{tool}: peak RSS (MiB)", "value": r["peakRssMiB"]},
            ]
    path = write(
        "fleet", f"Fleet release: {args.services} services at once, throttling on", rows, {"results": results}
    )
    with path.open("a") as out:
        out.write(METHOD)
    print(path.read_text())


if __name__ == "__main__":
    main()
