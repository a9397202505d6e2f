"""One rolling deployment: Corral against fabfuel's ecs-deploy and a boto3 `services_stable` waiter.

Run: python bench/single_deploy_bench.py [--rounds 5] [--speed 2]   (needs `pip install ecs-deploy`)
Writes bench/results/single_deploy.json and bench/results/single_deploy.md.

One `corral sandbox` subprocess, one Fargate service (2 tasks, no load balancer, min 100 % / max
200 %). Each round deploys the same change (the container's image to a new tag) with each tool in
turn, alternating the order, each tool in its own process:

- corral: `corral.ecs.rolling.rolling_deploy` through the Python API (bench/deploy_tools.py),
  noticing the end by polling DescribeServices (the shared poller's default interval),
- corral-events: the same, with the AWS settings naming an SQS queue that EventBridge rules fill
  with the Region's ECS events (made once by `corral.aws.event_queue.ensure_event_queue`, what
  `corral connector ecs-events` runs): the poller describes the service when an event can decide the
  wait (corral.aws.events), and every 30 s in case one is lost,
- ecs-deploy: `ecs deploy CLUSTER SERVICE --image app IMAGE` (AWS_ENDPOINT_URL, dummy keys),
- waiter: RegisterTaskDefinition + UpdateService + boto3's `services_stable` waiter.

Measured per run: wall time until the process ends; detection latency (below); the ECS calls by
operation from the sandbox's call log between the process's start and end; CPU seconds and peak
RSS of the tool process from its rusage (os.wait4).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import median, write
from deploy_tools import SandboxProcess, create_services, network_of, run_tool

CLUSTER = "bench"
SERVICE = "web"
READS = {"DescribeServices", "ListTasks", "DescribeTasks", "DescribeTaskDefinition", "ListServices"}
METHOD = """
## Method

- **Detection latency** = the moment the tool reported the deployment done minus the moment the
  sandbox reached the steady state. Corral and the waiter print `DONE <epoch>` right when the
  deploy call returns; ecs-deploy prints nothing machine-readable, so its moment is its process
  exit (it exits right after printing "Deployment successful"; interpreter exit adds a few ms).
- The steady-state moment comes from `GET /_sandbox/steady-states`, in sandbox time. The sandbox
  clock is real time scaled by `--speed` from a fixed origin (the benchmark never advances it), and
  every call-log entry holds both its real (epoch) and its sandbox time, so the real moment is
  `call.time + (steadyAt - call.sandbox_time) / speed` using the entry nearest in sandbox time.
  Both processes read the same machine clock (`time.time()`).
- **ECS read calls** are DescribeServices, ListTasks, DescribeTasks, DescribeTaskDefinition and
  ListServices from the sandbox's call log between the tool's start and end (the tools run one at
  a time). Application Auto Scaling calls are listed separately in the JSON.
- **corral-events** reads the Region's ECS events from an SQS queue (the rules and queue are made
  once before the first round; events of the other tools' rounds wait in the queue and are read
  and ignored: they were sent before the service was watched). Its SQS calls (ReceiveMessage,
  DeleteMessageBatch) are in the table by operation; they are not ECS calls and draw on no ECS
  bucket. It describes the service when an event can decide the wait and every 30 s otherwise.
- **CPU seconds** are the tool process's own (`os.wait4` rusage; user + system). **Peak RSS** is
  its VmHWM from /proc, sampled every 20 ms until it exits (rusage's ru_maxrss would include the
  benchmark's own pages copied at fork).
- Timings of the deployment itself scale with `--speed`: a task without a health check counts as
  healthy 40 sandbox seconds after it is RUNNING, so at speed S a deployment takes about 42/S real
  seconds plus the tool's own work. The poll cadence of each tool is in real seconds.
"""


def one_round(sandbox: SandboxProcess, tool: str, image: str, network: str, queue_url: str) -> dict[str, Any]:
    env = {**sandbox.env(), "BENCH_NETWORK": network}
    endpoint = sandbox.endpoint
    if tool.startswith("corral"):
        if tool == "corral-events":
            env["BENCH_EVENTS_QUEUE"] = queue_url
        args = [
            sys.executable,
            str(Path(__file__).parent / "deploy_tools.py"),
            "corral",
            endpoint,
            CLUSTER,
            SERVICE,
            image,
        ]
    elif tool == "ecs-deploy":
        args = [
            "ecs",
            "deploy",
            CLUSTER,
            SERVICE,
            "--image",
            "app",
            image,
            "--timeout",
            "900",
            "--no-deregister",
        ]
    else:
        args = [
            sys.executable,
            str(Path(__file__).parent / "deploy_tools.py"),
            "waiter",
            endpoint,
            CLUSTER,
            SERVICE,
            image,
        ]
    seq = sandbox.last_seq()
    start_sandbox = sandbox.admin.now()
    run = run_tool(tool, args, env)
    calls = sandbox.calls_since(seq)
    if run.exit_code != 0:
        raise RuntimeError(f"{tool} failed:\n{run.output}")
    done = run.done_at.get(SERVICE, run.ended)
    steady = sandbox.steady_real_times(SERVICE, start_sandbox, calls)
    if not steady:
        raise RuntimeError(f"{tool}: the sandbox recorded no steady state")
    by_operation = Counter(f"{c['service']}:{c['operation']}" for c in calls)
    ecs_reads = sum(
        n for op, n in by_operation.items() if op.split(":")[1] in READS and op.startswith("ecs:")
    )
    return {
        "tool": tool,
        "image": image,
        "wall": round(run.wall, 3),
        "latency": round(done - steady[-1], 3),
        "ecsReadCalls": ecs_reads,
        "ecsCalls": sum(n for op, n in by_operation.items() if op.startswith("ecs:")),
        "calls": dict(sorted(by_operation.items())),
        "cpuSeconds": round(run.cpu_seconds, 3),
        "peakRssMiB": round(run.peak_rss_mib, 1),
    }


def event_queue(sandbox: SandboxProcess) -> str:
    """The queue and EventBridge rules of the Region's ECS events, as `corral connector ecs-events`
    makes them."""
    from corral.aws.clients import AwsSettings, Clients
    from corral.aws.event_queue import ensure_event_queue

    settings = AwsSettings(
        region="us-east-1",
        endpoint_url=sandbox.endpoint,
        access_key_id="testing",
        secret_access_key="testing",
    )
    return ensure_event_queue(Clients(settings), "bench-ecs-events").queue_url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--speed", type=float, default=2.0)
    parser.add_argument("--no-waiter", action="store_true")
    args = parser.parse_args()

    tools = ["corral", "corral-events", "ecs-deploy"] + ([] if args.no_waiter else ["waiter"])
    runs: list[dict[str, Any]] = []
    with SandboxProcess(speed=args.speed, throttling=True) as sandbox:
        create_services(sandbox, CLUSTER, [SERVICE], "app:0")
        network = json.dumps(network_of(sandbox))
        queue_url = event_queue(sandbox)
        version = 0
        for round_number in range(args.rounds):
            order = tools if round_number % 2 == 0 else list(reversed(tools))
            for tool in order:
                version += 1
                result = one_round(sandbox, tool, f"app:{version}", network, queue_url)
                result["round"] = round_number
                runs.append(result)
                print(
                    f"round {round_number} {tool:10s} wall {result['wall']:6.2f} s  latency "
                    f"{result['latency']:5.2f} s  ECS reads {result['ecsReadCalls']:4d}  "
                    f"CPU {result['cpuSeconds']:.2f} s  RSS {result['peakRssMiB']:.0f} MiB",
                    flush=True,
                )

    def stat(tool: str, key: str) -> float:
        return median([r[key] for r in runs if r["tool"] == tool])

    rows: list[dict[str, Any]] = []
    for tool in tools:
        rows += [
            {"metric": f"{tool}: time to report done, median (s)", "value": round(stat(tool, "wall"), 2)},
            {
                "metric": f"{tool}: detection latency after steady state, median (s)",
                "value": round(stat(tool, "latency"), 2),
                **(
                    {"target": "≤ 1 s", "met": stat(tool, "latency") <= 1.0}
                    if tool.startswith("corral")
                    else {}
                ),
            },
            {"metric": f"{tool}: ECS read calls per deployment, median", "value": stat(tool, "ecsReadCalls")},
            {"metric": f"{tool}: ECS calls per deployment (all), median", "value": stat(tool, "ecsCalls")},
            {"metric": f"{tool}: CPU seconds, median", "value": round(stat(tool, "cpuSeconds"), 2)},
            {"metric": f"{tool}: peak RSS (MiB), median", "value": round(stat(tool, "peakRssMiB"), 1)},
        ]
    latencies = [r["latency"] for r in runs if r["tool"].startswith("corral")]
    for at, tool in ((0, "corral-events"), (0, "corral")):  # the two Corral modes first
        share = stat(tool, "ecsReadCalls") / max(1.0, stat("ecs-deploy", "ecsReadCalls"))
        mine = [r["latency"] for r in runs if r["tool"] == tool]
        rows.insert(
            at,
            {
                "metric": f"{tool}: ECS read calls / ecs-deploy's (medians)",
                "value": f"{share:.2f}",
                "target": "≤ 0.20",
                "met": share <= 0.20,
            },
        )
        rows.insert(at, {"metric": f"{tool}: detection latency, max (s)", "value": round(max(mine), 2)})
    rows.insert(
        0,
        {
            "metric": "rounds x tools (alternating order), sandbox speed",
            "value": f"{args.rounds} x {len(tools)}, {args.speed:g}x, throttling on",
        },
    )
    path = write(
        "single_deploy",
        "One rolling deployment: Corral vs ecs-deploy vs boto3 waiter",
        rows,
        {
            "speed": args.speed,
            "runs": runs,
            "latencyStdev": statistics.pstdev(latencies) if latencies else None,
        },
    )
    per_op: dict[str, Counter[str]] = {t: Counter() for t in tools}
    for r in runs:
        per_op[r["tool"]].update(r["calls"])
    ops = sorted({op for c in per_op.values() for op in c})
    table = [
        "",
        "## Calls by operation (mean per deployment)",
        "",
        "| operation | " + " | ".join(tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    for op in ops:
        table.append(f"| {op} | " + " | ".join(f"{per_op[t][op] / args.rounds:.1f}" for t in tools) + " |")
    with path.open("a") as out:
        out.write("\n".join(table) + "\n" + METHOD)
    print(path.read_text())


if __name__ == "__main__":
    main()
