"""One rolling deployment, each tool as the CLI a user types: `corral run`, `ecs deploy`, `aws ecs wait`.

Run: python bench/single_deploy_bench.py --speed 4 [--rounds 5] [--seed 1] [--tools corral,ecs-deploy]
(needs `pip install ecs-deploy` and the AWS CLI). Writes bench/results/single_deploy_speedS.json/.md.

One `corral sandbox --timing-seed SEED` subprocess, one Fargate service of 2 tasks behind an
application load balancer (min 100 % / max 200 %). Each round deploys a new image tag with each
tool in turn (bench/cli_tools.py: the tools, their two retry settings, how their success line is
read), the order reversed every other round. The sandbox draws each task's start, each health
check's phase and each target's draining time from the seed, so no tool's poll interval can line
up with a fixed deployment duration.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_project import CONNECTOR, image, write_project
from cli_tools import TOOLS, Tool, Workspace, console_script, describe, moments, release
from common import load_average, median, spread, write
from deploy_tools import (
    DEREGISTRATION_DELAY,
    HEALTH_CHECK_INTERVAL,
    HEALTHY_THRESHOLD,
    SandboxProcess,
    create_services,
    load_balanced,
    network_of,
    service_definition,
    task_definition,
)

CLUSTER = "bench"
SERVICE = "web"
READS = {"DescribeServices", "ListTasks", "DescribeTasks", "DescribeTaskDefinition", "ListServices"}
LATENCY_TARGETS = {"corral": 0.5, "corral (defaults)": 0.5, "corral-events": 0.2}
READ_SHARE_TARGET = 0.20
# why the read target and the latency target cannot both hold polling only (bench/README.md)
READ_SHARE_NOTE = (
    "not together with the 0.5 s latency, polling only: a target may drain at once or for the "
    "whole delay (AWS), so Corral polls the whole window densely; 5 reads are fixed"
)
METHOD = """
## Method

- **Tools** (bench/cli_tools.py): `corral run` of a one-stage ECS Rolling Deploy pipeline in a
  project the benchmark writes (bench/bench_project.py); the same with the connector's
  `ecsEventQueues` (`corral-events`); `ecs deploy` (fabfuel's ecs-deploy); the AWS CLI's
  `register-task-definition && update-service && wait services-stable`. Rows without a suffix
  run with `AWS_RETRY_MODE=standard`; "(defaults)" rows with no retry setting (boto3's and the
  AWS CLI v1's `legacy`). Corral's retries are its own, so its two rows are one configuration
  measured twice: their difference is run-to-run noise.
- **Done** is each tool's own success line as it arrives through the pipe (Corral: `step
  EcsRollingDeploy web/deploy: Success`; ecs-deploy: `Deployment successful`); the AWS CLI's
  waiter prints nothing, so its done is its exit. **Exit** is when the process ended (a Python
  interpreter's shutdown, ecs-deploy's deregistration of the old task definition, Corral's
  store). "Time to done" counts from the process start, interpreter start-up included.
- **Detection latency** = done minus the moment the sandbox reached the steady state
  (`GET /_sandbox/steady-states`, sandbox time converted to real time through the call log entry
  nearest in sandbox time: `call.time + (steadyAt - call.sandbox_time) / speed`). Both clocks are
  this machine's `time.time()`. For Corral the moment its step logged `Service web reached steady
  state` is shown too.
- **ECS read calls**: DescribeServices, ListTasks, DescribeTasks, DescribeTaskDefinition and
  ListServices in the sandbox's call log between the tool's start and exit (one tool at a time).
- **CPU seconds**: the tool process's rusage from `os.wait4` (its waited-for children included:
  the AWS CLI row is a shell and three `aws` processes). **Peak RSS**: the largest VmHWM among
  the tool's processes, sampled every 20 ms.
- **Sandbox timings** vary with the seed (docs/sandbox.md, `--timing-seed`; the ranges are in the
  JSON): ENI 1-5 s, image pull and start 1-4 s, first load balancer health check anywhere in the
  first interval, draining 0 to the deregistration delay; the target group checks every
  {interval} s with a healthy threshold of {threshold}, deregistration delay {delay} s. All in
  sandbox seconds: real seconds are these divided by the speed. Poll intervals are real seconds.
"""


def ecs_events_project(workspace: Workspace, project: Path) -> str:
    """`corral connector ecs-events` in the project, as a user makes the queue; its URL."""
    env = workspace.env(TOOLS["corral-events"])
    out = subprocess.run(
        [console_script("corral"), "connector", "ecs-events", CONNECTOR],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"^queue: (\S+)", out, re.M)
    if found is None:
        raise RuntimeError(f"corral connector ecs-events printed no queue:\n{out}")
    return found.group(1)


def one_round(workspace: Workspace, tool: Tool, tag: str) -> dict[str, Any]:
    sandbox = workspace.sandbox
    seq = sandbox.last_seq()
    start_sandbox = sandbox.admin.now()
    load = load_average()
    (run,) = release(workspace, tool, [SERVICE], tag)
    calls = sandbox.calls_since(seq)
    if run.exit_code != 0:
        raise RuntimeError(f"{tool.name} failed ({run.exit_code}):\n{run.output}")
    done = moments(tool, [run], [SERVICE]).get(SERVICE)
    if done is None:
        raise RuntimeError(f"{tool.name}: no success line in its output:\n{run.output}")
    seen = moments(tool, [run], [SERVICE], "detected").get(SERVICE)
    steady = sandbox.steady_real_times(SERVICE, start_sandbox, calls)
    if not steady:
        raise RuntimeError(f"{tool.name}: the sandbox recorded no steady state")
    by_operation = Counter(f"{c['service']}:{c['operation']}" for c in calls)
    ecs_reads = sum(n for op, n in by_operation.items() if op.startswith("ecs:") and op[4:] in READS)
    return {
        "tool": tool.name,
        "image": image(tag),
        "toDone": round(done - run.started, 3),
        "wall": round(run.wall, 3),
        "latency": round(done - steady[0], 3),
        "exitLatency": round(run.ended - steady[0], 3),
        "seenLatency": round(seen - steady[0], 3) if seen is not None else None,
        "steadyStates": len(steady),
        "ecsReadCalls": ecs_reads,
        "ecsCalls": sum(n for op, n in by_operation.items() if op.startswith("ecs:")),
        "throttled": sum(1 for c in calls if c["outcome"] == "ThrottlingException"),
        "calls": dict(sorted(by_operation.items())),
        "cpuSeconds": round(run.cpu_seconds, 3),
        "peakRssMiB": round(run.peak_rss_mib, 1),
        "loadAverageBefore": load,
    }


def rows_for(tools: list[Tool], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def values(tool: str, key: str) -> list[float]:
        return [r[key] for r in runs if r["tool"] == tool and r[key] is not None]

    rows: list[dict[str, Any]] = []
    ecs_deploy_reads = median(values("ecs-deploy", "ecsReadCalls")) if "ecs-deploy" in TOOLS else None
    for tool in tools:
        name = tool.name
        latency = values(name, "latency")
        target = LATENCY_TARGETS.get(name)
        rows.append(
            {
                "metric": f"{name}: detection latency, success line - steady state, min / median / max (s)",
                "value": spread(latency),
                **(
                    {"target": f"median ≤ {target} s", "met": median(latency) <= target}
                    if target is not None and latency
                    else {}
                ),
            }
        )
        if tool.family == "corral":
            rows.append(
                {
                    "metric": f"{name}: its log line 'reached steady state' - steady state (s)",
                    "value": spread(values(name, "seenLatency")),
                }
            )
        reads = values(name, "ecsReadCalls")
        read_row: dict[str, Any] = {
            "metric": f"{name}: ECS read calls per deployment, min / median / max",
            "value": spread(reads, 0),
        }
        if tool.kind == "corral" and ecs_deploy_reads and values("ecs-deploy", "ecsReadCalls"):
            share = median(reads) / ecs_deploy_reads
            read_row = {
                "metric": f"{name}: ECS read calls per deployment (min / median / max); median / ecs-deploy's median",
                "value": f"{spread(reads, 0)}; {share:.2f}",
                "target": f"≤ {READ_SHARE_TARGET:.2f}, polling only",
                "met": share <= READ_SHARE_TARGET,
                "note": READ_SHARE_NOTE,
            }
        rows += [
            read_row,
            {
                "metric": f"{name}: time to success line from process start (s)",
                "value": spread(values(name, "toDone")),
            },
            {
                "metric": f"{name}: process exit - steady state (s)",
                "value": spread(values(name, "exitLatency")),
            },
            {
                "metric": f"{name}: ECS calls per deployment (all)",
                "value": spread(values(name, "ecsCalls"), 0),
            },
            {"metric": f"{name}: CPU seconds", "value": spread(values(name, "cpuSeconds"))},
            {"metric": f"{name}: peak RSS (MiB)", "value": spread(values(name, "peakRssMiB"), 1)},
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--speed", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1, help="the sandbox's --timing-seed")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated rows of bench/cli_tools.py")
    args = parser.parse_args()
    tools = [TOOLS[name.strip()] for name in args.tools.split(",")]

    runs: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="corral-bench-") as scratch,
        SandboxProcess(speed=args.speed, throttling=True, timing_seed=args.seed) as sandbox,
    ):
        folder = Path(scratch)
        target_group = load_balanced(sandbox, "bench-web")
        network = network_of(sandbox)
        services = {SERVICE: service_definition(SERVICE, network, 2, target_group)}
        definitions = {SERVICE: task_definition(SERVICE, image("0"))}
        create_services(sandbox, CLUSTER, services, definitions)
        project = {
            "cluster": CLUSTER,
            "network": network,
            "services": services,
            "task_definitions": definitions,
        }
        polling = write_project(folder / "polling", **project)
        events = write_project(folder / "events", **project)
        workspace = Workspace(sandbox, CLUSTER, folder, {"corral": polling, "corral-events": events})
        if any(t.kind == "corral-events" for t in tools):
            queue = ecs_events_project(workspace, events)
            write_project(events, **project, events_queue=queue)
        timing = sandbox.admin.timing()
        version = 0
        for round_number in range(args.rounds):
            order = tools if round_number % 2 == 0 else list(reversed(tools))
            for tool in order:
                version += 1
                result = one_round(workspace, tool, str(version))
                result["round"] = round_number
                runs.append(result)
                print(
                    f"speed {args.speed:g} round {round_number} {tool.name:22s} done {result['toDone']:6.2f} s "
                    f"latency {result['latency']:5.2f} s exit {result['exitLatency']:5.2f} s "
                    f"ECS reads {result['ecsReadCalls']:3d} CPU {result['cpuSeconds']:.2f} s",
                    flush=True,
                )

    rows: list[dict[str, Any]] = [
        {
            "metric": "rounds x tools (order reversed every other round), sandbox speed, timing seed",
            "value": f"{args.rounds} x {len(tools)}, {args.speed:g}x, seed {args.seed}, throttling on",
        },
        {
            "metric": "load average 1 min before each deployment, min / median / max",
            "value": spread([r["loadAverageBefore"][0] for r in runs]),
        },
        *rows_for(tools, runs),
    ]
    name = f"single_deploy_speed{args.speed:g}"
    path = write(
        name,
        f"One rolling deployment at sandbox speed {args.speed:g}: corral run vs ecs deploy vs aws ecs wait",
        rows,
        {
            "speed": args.speed,
            "seed": args.seed,
            "timing": timing,
            "service": {
                "healthCheckIntervalSeconds": HEALTH_CHECK_INTERVAL,
                "healthyThresholdCount": HEALTHY_THRESHOLD,
                "deregistrationDelaySeconds": DEREGISTRATION_DELAY,
                "desiredCount": 2,
            },
            "tools": {t.name: describe(t) for t in tools},
            "runs": runs,
            "latencyStdev": {
                t.name: statistics.pstdev([r["latency"] for r in runs if r["tool"] == t.name]) for t in tools
            },
        },
    )
    per_op: dict[str, Counter[str]] = {t.name: Counter() for t in tools}
    for r in runs:
        per_op[r["tool"]].update(r["calls"])
    ops = sorted({op for c in per_op.values() for op in c})
    table = [
        "",
        "## Calls by operation (mean per deployment)",
        "",
        "| operation | " + " | ".join(t.name for t in tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    for op in ops:
        table.append(
            f"| {op} | " + " | ".join(f"{per_op[t.name][op] / args.rounds:.1f}" for t in tools) + " |"
        )
    method = METHOD.format(
        interval=HEALTH_CHECK_INTERVAL, threshold=HEALTHY_THRESHOLD, delay=DEREGISTRATION_DELAY
    )
    with path.open("a") as out:
        out.write("\n".join(table) + "\n" + method)
    print(path.read_text())


if __name__ == "__main__":
    main()
