"""A fleet release: N services with new task definitions at once, sandbox throttling on, each tool
as its CLI, alternated and repeated.

Run: python bench/fleet_bench.py [--services 50] [--speed 10] [--repeat 3] [--seed 2]
[--max-processes K] (needs `pip install ecs-deploy`). Writes bench/results/fleet_N.json and fleet_N.md.

- corral: one `corral run bench_rolling --input tag=TAG`, a pipeline with one ECS Rolling Deploy
  stage per service, all in parallel (one process: its deployments share the pollers and the
  rate budget, corral.aws.budget).
- ecs-deploy: N `ecs deploy CLUSTER SERVICE --image app IMAGE --timeout 900` processes at once, with
  `AWS_RETRY_MODE=standard`; the same with `--no-deregister` (by default ecs-deploy deregisters
  the old task definition after success, a call from the same token bucket as the registrations);
  and with its defaults (`legacy` retries). N processes at once need about N x 67 MiB (200: 13
  GiB): when the machine's available memory cannot hold them, or with `--max-processes K`, at most
  K run at a time (as `xargs -P K` would) and the results say so.

Each repetition runs every tool once, the order rotated by one each repetition; between two
releases the benchmark waits until every service is steady and the token buckets are full again.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import threading
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

from corral.aws.ecs_limits import BUCKETS, ECS_OPERATION_BUCKETS

CLUSTER = "fleet"
REFILL_WAIT = 25.0  # real seconds: the task definition bucket (20 at 1/s) is full again after 20 s
# every release calls these once per service, whatever the tool; their buckets bound its time
PER_SERVICE_CALLS = ("RegisterTaskDefinition", "UpdateService")
ECS_DEPLOY_MIB = 67  # one `ecs deploy` process's peak RSS measured here (the results record theirs)
CORRAL_SAMPLE_EVERY = 0.25  # s: VmHWM is a high-water mark; each sample reads /proc once per thread
THROTTLED = re.compile(r"Throttl|Rate exceeded")
STAGE_LINE = re.compile(r"^\s*\[(?P<stage>\S+)/")
TARGETS = {50: 1.15, 200: 1.25}  # issue 17: total time / token-bucket bound

METHOD = """
## Lower bound

The sandbox enforces ECS's token buckets in real time (docs/sandbox.md). Whatever the tool does,
a release makes N RegisterTaskDefinition calls (task definition modify bucket: burst 20, refill 1
per second) and N UpdateService calls (service modify: burst 50, refill 5 per second). The last
call of a kind cannot be answered before (N - B) / R seconds after the first, B and R its
bucket's, and that service's deployment then still takes its own duration D (UpdateService to
the sandbox's steady state; tasks start and settle in sandbox time, scaled by --speed). For 50
and 200 services the registrations bind: 30 s and 180 s, against 0 s and 30 s for UpdateService.
Reads (DescribeServices: 100 burst, 20/s) are the tool's choice, not part of the bound.

    lower bound = max over those two buckets of (N - B) / R, + D

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
processes. Peak RSS is each process's VmHWM (the kernel's high-water mark), read every 0.25 s
for Corral's one process and every second for each ecs-deploy process; "processes at once" is
the most ecs-deploy processes alive at one moment (N when they all ran together), and the
machine's lowest MemAvailable during the release shows how close 200 of them came to its memory.

What does not bind here, and would in an account: the sandbox enforces no ECS service quota.
AWS's (https://docs.aws.amazon.com/general/latest/gr/ecs-service.html) allow thousands of
services per cluster, but Fargate's concurrent vCPU quota is per account
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html): 200 services of
2 tasks of 0.25 vCPU need 100 vCPU, and up to 200 while each rolls at maximumPercent 200. Fargate's
task launch rate (100 burst, 20 per second, "AWS Fargate throttling quotas") is not emulated;
it would not bind either: the launches follow the registrations, 2 tasks a second.
"""


def api_floor(services: int) -> tuple[float, str, float, float]:
    """The fewest seconds between a release's first call and its last registration or update:
    (seconds, bucket, burst, refill) of the bucket that binds."""
    floors = []
    for operation in PER_SERVICE_CALLS:
        bucket = ECS_OPERATION_BUCKETS[operation]
        burst, refill = BUCKETS[bucket]
        floors.append((max(0.0, (services - burst) / refill), bucket, burst, refill))
    return max(floors, key=lambda f: (f[0], f[1] == ECS_OPERATION_BUCKETS[PER_SERVICE_CALLS[0]]))


def memory_available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def processes_that_fit(wanted: int) -> tuple[int, str]:
    """How many ecs-deploy processes this machine can run at once, and why when fewer than wanted:
    its available memory (at ECS_DEPLOY_MIB each, a fifth kept for the rest) and the soft limit
    on the user's processes (threads count too; root is not held to it)."""
    by_memory = int(memory_available_mib() * 0.8 / ECS_DEPLOY_MIB)
    soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    limit = soft if soft != resource.RLIM_INFINITY and os.geteuid() != 0 else wanted * 4
    by_processes = limit // 4  # per process: itself, and the benchmark's reader, timer and sampler threads
    fit = min(wanted, by_memory, by_processes)
    if fit >= wanted:
        return wanted, ""
    reason = (
        f"MemAvailable {memory_available_mib() / 1024:.1f} GiB holds about {by_memory} at {ECS_DEPLOY_MIB} MiB each"
        if by_memory <= by_processes
        else f"the process limit (ulimit -u {soft}) allows about {by_processes}"
    )
    return fit, reason


class MemoryWatch:
    """The lowest MemAvailable while a release runs, read twice a second."""

    def __init__(self) -> None:
        self.lowest = memory_available_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self.lowest = min(self.lowest, memory_available_mib())

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def at_once(runs: list[ToolRun]) -> int:
    """The most processes alive at one moment."""
    edges = sorted([(r.started, 1) for r in runs] + [(r.ended, -1) for r in runs])
    alive = most = 0
    for _, step in edges:
        alive += step
        most = max(most, alive)
    return most


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
        time.sleep(read_pause(len(names)))
    raise RuntimeError("the fleet did not settle between releases")


def read_pause(services: int) -> float:
    """Seconds between two rounds of DescribeServices (10 services a call) over the fleet: at most
    half of the service read bucket's refill (20 per second), so the benchmark's own reads are
    never throttled (a boto3 client's standard retries stop once their quota is spent)."""
    _, refill = BUCKETS["service-read"]
    return max(1.0, (services + 9) // 10 / (refill / 2))


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


def one_release(
    workspace: Workspace, tool: Tool, names: list[str], tag: str, max_processes: int
) -> dict[str, Any]:
    sandbox = workspace.sandbox
    seq = sandbox.last_seq()
    load_before = load_average()
    started_sandbox = sandbox.admin.now()
    single = tool.family == "corral"
    with MemoryWatch() as memory:
        runs = release(
            workspace,
            tool,
            names,
            tag,
            max_processes=0 if single else max_processes,
            sample_rss=True,
            sample_every=CORRAL_SAMPLE_EVERY if single else 1.0,
        )
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
        "peakRssPerProcessMaxMiB": round(max(r.peak_rss_mib for r in runs), 1),
        "peakRssSummedMiB": round(sum(r.peak_rss_mib for r in runs), 1),
        "processesAtOnce": at_once(runs),
        "lowestMemAvailableGiB": round(memory.lowest / 1024, 2),
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
    parser.add_argument(
        "--max-processes",
        type=int,
        default=0,
        help="at most this many ecs-deploy processes at a time (default: all N, if the machine holds them)",
    )
    args = parser.parse_args()
    tools = [TOOLS[name.strip()] for name in args.tools.split(",")]
    names = [f"svc-{i:03d}" for i in range(args.services)]
    fit, why = processes_that_fit(args.services)
    if args.max_processes:
        args.cap, args.cap_reason = min(args.max_processes, args.services), "--max-processes"
    else:
        args.cap, args.cap_reason = fit, why
    if args.cap < args.services:
        print(f"ecs-deploy: at most {args.cap} of {args.services} processes at a time ({args.cap_reason})")
    floor, bucket, burst, refill = api_floor(args.services)
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
                result = one_release(workspace, tool, names, str(version), args.cap)
                bound = floor + result["deploymentDurationMedian"]
                result |= {"repetition": repetition, "lowerBound": round(bound, 2)}
                if result["toLastDone"] is not None:
                    result["ratio"] = round(result["toLastDone"] / bound, 3)
                results.append(result)
                print(
                    {k: v for k, v in result.items() if k not in ("failures", "callsByOperation")}, flush=True
                )

    rows = fleet_rows(args, tools, results, f"(N - {burst:g}) / {refill:g} ({bucket}) + D")
    path = write(
        f"fleet_{args.services}",
        f"Fleet release: {args.services} services at once, throttling on, {args.repeat} repetitions",
        rows,
        {
            "speed": args.speed,
            "seed": args.seed,
            "ecsDeployProcessesAtATime": args.cap,
            "ecsDeployCapReason": args.cap_reason,
            "apiFloorSeconds": floor,
            "apiFloorBucket": bucket,
            "timing": timing,
            "tools": {t.name: describe(t) for t in tools},
            "results": results,
        },
    )
    with path.open("a") as out:
        out.write(METHOD)
    print(path.read_text())


def fleet_rows(
    args: argparse.Namespace, tools: list[Tool], results: list[dict[str, Any]], bound: str
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
        {
            "metric": "ecs-deploy processes started at once",
            "value": f"all {args.services}"
            if args.cap >= args.services
            else f"at most {args.cap} of {args.services}, the next when one ends ({args.cap_reason})",
            **({} if args.cap >= args.services else {"note": "not all at once on this machine"}),
        },
        {
            "metric": "machine's lowest MemAvailable during a release, min / median / max (GiB)",
            "value": spread([r["lowestMemAvailableGiB"] for r in results]),
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
                "metric": f"{tool.name}: lower bound {bound}, min / median / max (s)",
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
        else:
            rows += [
                {
                    "metric": f"{tool.name}: processes alive at once, most, per release",
                    "value": ", ".join(str(r["processesAtOnce"]) for r in mine),
                },
                {
                    "metric": f"{tool.name}: peak RSS of one process, max; summed over its {args.services} (MiB)",
                    "value": "; ".join(
                        f"{r['peakRssPerProcessMaxMiB']:.0f}; {r['peakRssSummedMiB']:.0f}" for r in mine
                    ),
                },
            ]
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
