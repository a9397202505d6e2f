"""A fleet release: N services with new task definitions at once, sandbox throttling on, each tool
as its CLI, alternated and repeated.

Run: python bench/fleet_bench.py [--services 50] [--speed 10] [--repeat 3] [--seed 2]
(needs `pip install ecs-deploy`). Writes bench/results/fleet_N.json and fleet_N.md.

- corral: one `corral run bench_rolling --input tag=TAG`, a pipeline with one ECS Rolling Deploy
  stage per service, all in parallel (one process: its deployments share the pollers and the
  rate budget, corral.aws.budget).
- ecs-deploy: N `ecs deploy CLUSTER SERVICE --image app IMAGE --timeout 900` processes at once, with
  `AWS_RETRY_MODE=standard`; the same with `--no-deregister` (by default ecs-deploy deregisters
  the old task definition after success, a call from the same token bucket as the registrations);
  and with its defaults (`legacy` retries).

Each repetition runs every tool once, the order rotated by one each repetition; between two
releases the benchmark waits until every service is steady and the token buckets are full again.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_project import image, write_project
from cli_tools import TOOLS, Tool, Workspace, describe, moments, release, stage_of
from common import load_average, median, spread, write
from deploy_tools import (
    SandboxProcess,
    ToolRun,
    create_services,
    network_of,
    service_definition,
    task_definition,
)

from corral.aws.ecs_limits import BUCKETS

CLUSTER = "fleet"
REFILL_WAIT = 25.0  # real seconds: the task definition bucket (20 at 1/s) is full again after 20 s
THROTTLED = re.compile(r"Throttl|Rate exceeded")
STAGE_LINE = re.compile(r"^\s*\[(?P<stage>\S+)/")
TARGETS = {50: 1.15, 200: 1.25}  # issue 17: total time / token-bucket bound

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
**Total time** runs from the first process start to the last success line (Corral: `step
EcsRollingDeploy <stage>/deploy: Success`; ecs-deploy: `Deployment successful`), interpreter
start-up included; the last process exit is shown beside it. A release whose deployments did
not all succeed has no total time against the bound (shown as such).

Throttling errors answered are the calls the sandbox answered `ThrottlingException` (call log
outcomes); a deployment "shows" one when its output has a line with `Throttl` or `Rate
exceeded` (Corral: lines of that deployment's stage, or of no stage; ecs-deploy: its process).
CPU seconds are the tool's processes' own (`os.wait4` rusage), summed over the N ecs-deploy
processes; peak RSS is measured for Corral's one process only (sampling fifty would compete
with them for the CPU).
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


def wait_all_steady(sandbox: SandboxProcess, names: list[str]) -> None:
    """A failed ecs-deploy leaves its deployment going on in ECS: the next release starts after."""
    ecs = sandbox.client("ecs")
    give_up = time.monotonic() + 900
    while time.monotonic() < give_up:
        steady = 0
        for i in range(0, len(names), 10):
            for s in ecs.describe_services(cluster=CLUSTER, services=names[i : i + 10])["services"]:
                steady += (
                    len(s["deployments"]) == 1 and s["deployments"][0].get("rolloutState") == "COMPLETED"
                )
        if steady == len(names):
            return
        time.sleep(1.0)
    raise RuntimeError("the fleet did not settle between releases")


def shown_throttling(tool: Tool, runs: list[ToolRun], names: list[str]) -> int:
    """Deployments whose output shows a throttling error."""
    if tool.family != "corral":
        return sum(1 for run in runs if THROTTLED.search(run.output))
    stages = {stage_of(n) for n in names}
    hit: set[str] = set()
    for _, text in runs[0].lines:
        if THROTTLED.search(text):
            found = STAGE_LINE.match(text)
            stage = found.group("stage") if found else ""
            hit.add(stage if stage in stages else f"(no stage) {len(hit)}")
    return len(hit)


def one_release(workspace: Workspace, tool: Tool, names: list[str], tag: str) -> dict[str, Any]:
    sandbox = workspace.sandbox
    seq = sandbox.last_seq()
    load_before = load_average()
    started_sandbox = sandbox.admin.now()
    runs = release(workspace, tool, names, tag)
    calls = sandbox.calls_since(seq)
    done = moments(tool, runs, names)
    first_start = min(r.started for r in runs)
    throttled = Counter(c["operation"] for c in calls if c["outcome"] == "ThrottlingException")
    durations = deployment_durations(sandbox, names, started_sandbox)
    succeeded = len(done)
    failures = [r.output[-600:] for r in runs if r.exit_code != 0][:3]
    return {
        "tool": tool.name,
        "services": len(names),
        "succeeded": succeeded,
        "toLastDone": round(max(done.values()) - first_start, 2) if succeeded == len(names) else None,
        "toLastExit": round(max(r.ended for r in runs) - first_start, 2),
        "throttledCalls": sum(throttled.values()),
        "throttledByOperation": dict(throttled),
        "deploymentsShowingThrottling": shown_throttling(tool, runs, names),
        "ecsCalls": sum(1 for c in calls if c["service"] == "ecs"),
        "callsByOperation": dict(Counter(c["operation"] for c in calls)),
        "deploymentDurationMedian": round(median(durations), 2),
        "cpuSeconds": round(sum(r.cpu_seconds for r in runs), 2),
        "peakRssMiB": round(runs[0].peak_rss_mib, 1) if len(runs) == 1 else None,
        "failures": failures,
        # what each process that did not succeed said last (ecs-deploy prints one error line)
        "lastLinesOfFailed": dict(
            Counter(
                next((x for x in reversed(r.output.splitlines()) if x.strip()), "")
                for r in runs
                if r.exit_code != 0
            )
        ),
        "loadAverageBefore": load_before,
        "loadAverageAfter": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2, help="the sandbox's --timing-seed")
    parser.add_argument(
        "--tools", default="corral,ecs-deploy,ecs-deploy --no-deregister,ecs-deploy (defaults)"
    )
    args = parser.parse_args()
    tools = [TOOLS[name.strip()] for name in args.tools.split(",")]
    names = [f"svc-{i:03d}" for i in range(args.services)]
    burst, refill = BUCKETS["task-definition-modify"]
    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="corral-fleet-") as scratch,
        SandboxProcess(speed=args.speed, throttling=True, timing_seed=args.seed) as sandbox,
    ):
        folder = Path(scratch)
        network = network_of(sandbox)
        services = {n: service_definition(n, network, 2) for n in names}
        definitions = {n: task_definition(n, image("0")) for n in names}
        create_services(sandbox, CLUSTER, services, definitions)
        project = write_project(
            folder / "polling",
            cluster=CLUSTER,
            network=network,
            services=services,
            task_definitions=definitions,
        )
        workspace = Workspace(sandbox, CLUSTER, folder, {"corral": project})
        timing = sandbox.admin.timing()
        version = 0
        for repetition in range(args.repeat):
            order = tools[repetition % len(tools) :] + tools[: repetition % len(tools)]
            for tool in order:
                wait_all_steady(sandbox, names)
                time.sleep(REFILL_WAIT)  # every bucket full again: each release starts from the same budget
                version += 1
                result = one_release(workspace, tool, names, str(version))
                bound = max(0.0, (args.services - burst) / refill) + result["deploymentDurationMedian"]
                result |= {"repetition": repetition, "lowerBound": round(bound, 2)}
                if result["toLastDone"] is not None:
                    result["ratio"] = round(result["toLastDone"] / bound, 3)
                results.append(result)
                print(
                    {k: v for k, v in result.items() if k not in ("failures", "callsByOperation")}, flush=True
                )

    rows = fleet_rows(args, tools, results, burst, refill)
    path = write(
        f"fleet_{args.services}",
        f"Fleet release: {args.services} services at once, throttling on, {args.repeat} repetitions",
        rows,
        {
            "speed": args.speed,
            "seed": args.seed,
            "timing": timing,
            "tools": {t.name: describe(t) for t in tools},
            "results": results,
        },
    )
    with path.open("a") as out:
        out.write(METHOD)
    print(path.read_text())


def fleet_rows(
    args: argparse.Namespace, tools: list[Tool], results: list[dict[str, Any]], burst: float, refill: float
) -> list[dict[str, Any]]:
    target = TARGETS.get(args.services)
    rows: list[dict[str, Any]] = [
        {
            "metric": "services, sandbox speed, timing seed, repetitions (order rotated)",
            "value": f"{args.services}, {args.speed:g}x, seed {args.seed}, {args.repeat}, throttling on",
        },
        {
            "metric": "load average 1 min before each release, min / median / max",
            "value": spread([r["loadAverageBefore"][0] for r in results]),
        },
    ]
    by_tool = {t.name: [r for r in results if r["tool"] == t.name] for t in tools}
    for tool in tools:
        mine = by_tool[tool.name]
        is_corral = tool.family == "corral"
        ratios = [r["ratio"] for r in mine if "ratio" in r]
        all_done = len(ratios) == len(mine)
        rows += [
            {
                "metric": f"{tool.name}: deployments that succeeded, per release",
                "value": ", ".join(f"{r['succeeded']}/{r['services']}" for r in mine),
                **(
                    {"target": "all", "met": all(r["succeeded"] == r["services"] for r in mine)}
                    if is_corral
                    else {}
                ),
            },
            {
                "metric": f"{tool.name}: throttling errors the sandbox answered, min / median / max",
                "value": spread([r["throttledCalls"] for r in mine], 0),
            },
            {
                "metric": f"{tool.name}: deployments whose output shows a throttling error, min / median / max",
                "value": spread([r["deploymentsShowingThrottling"] for r in mine], 0),
                **(
                    {"target": "0", "met": all(r["deploymentsShowingThrottling"] == 0 for r in mine)}
                    if is_corral
                    else {}
                ),
            },
            {
                "metric": f"{tool.name}: total time to the last success line, min / median / max (s)",
                "value": spread([r["toLastDone"] for r in mine if r["toLastDone"] is not None])
                + ("" if all_done else f" ({len(mine) - len(ratios)} release(s) not all done)"),
            },
            {
                "metric": f"{tool.name}: time to the last process exit, min / median / max (s)",
                "value": spread([r["toLastExit"] for r in mine]),
            },
            {
                "metric": f"{tool.name}: lower bound (N - {burst:g}) / {refill:g} + D, min / median / max (s)",
                "value": spread([r["lowerBound"] for r in mine]),
            },
            {
                "metric": f"{tool.name}: total time / lower bound, min / median / max",
                "value": spread(ratios) if ratios else "n/a: no release had every deployment succeed",
                **(
                    {"target": f"≤ {target:.2f}", "met": all_done and max(ratios) <= target}
                    if is_corral and target is not None
                    else {}
                ),
            },
            {
                "metric": f"{tool.name}: ECS calls, min / median / max",
                "value": spread([r["ecsCalls"] for r in mine], 0),
            },
            {
                "metric": f"{tool.name}: CPU seconds (all its processes)",
                "value": spread([r["cpuSeconds"] for r in mine]),
            },
        ]
        if is_corral:
            rows.append(
                {
                    "metric": f"{tool.name}: peak RSS (MiB)",
                    "value": spread([r["peakRssMiB"] for r in mine], 1),
                }
            )
    rows += ahead_rows(by_tool)
    return rows


def ahead_rows(by_tool: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Corral against ecs-deploy with standard retries: time (medians) and throttling shown."""
    corral = by_tool.get("corral")
    rows: list[dict[str, Any]] = []
    for name in ("ecs-deploy", "ecs-deploy --no-deregister"):
        other = by_tool.get(name)
        if not corral or not other:
            continue
        mine = [r["toLastDone"] for r in corral if r["toLastDone"] is not None]
        theirs = [r["toLastDone"] if r["toLastDone"] is not None else float("inf") for r in other]
        time_ahead = bool(mine) and len(mine) == len(corral) and median(mine) < median(theirs)
        shown_mine = median([r["deploymentsShowingThrottling"] for r in corral])
        shown_theirs = median([r["deploymentsShowingThrottling"] for r in other])
        rows += [
            {
                "metric": f"corral ahead of {name} (standard retries) on time: medians of total time (s)",
                "value": f"{median(mine):.2f} vs {median(theirs):.2f}" if mine else "n/a",
                "target": "corral lower",
                "met": time_ahead,
                "note": ""
                if all(r["toLastDone"] is not None for r in other)
                else f"{name}: not every deployment succeeded (inf)",
            },
            {
                "metric": f"corral ahead of {name} (standard retries) on throttling errors shown: medians",
                "value": f"{shown_mine:g} vs {shown_theirs:g}",
                "target": "corral 0, and lower",
                "met": shown_mine == 0 and shown_mine <= shown_theirs,
                "note": "" if shown_mine < shown_theirs else "equal: neither shows one",
            },
        ]
    return rows


if __name__ == "__main__":
    main()
