"""Memory of 200 concurrent deployments as a user runs them: one `corral run` deploying 200 services.

Run: python bench/concurrency_bench.py [--deployments 200] [--speed 10] [--no-python-api]
Writes bench/results/concurrency.json and bench/results/concurrency.md.

A `corral sandbox` subprocess (throttling off) and the project bench_project.py writes for the
fleet benchmark: one pipeline `bench_rolling` with an ECS Rolling Deploy stage per service, all
stages in parallel; each step creates a Fargate service of 2 tasks (its first deployment). The
command is the one a user types, `corral run bench_rolling --input tag=2`, from the project folder.

All N must be in flight together. Corral paces its ECS calls to ECS's token buckets whether the
sandbox throttles or not (corral.aws.budget): RegisterTaskDefinition 20 at once, then 1 a second,
so the last deployment registers its task definition (N - 20) s after the first. The image's
tasks therefore take that long and 30 s more to start (the sandbox image behaviour `startDelay`,
in sandbox seconds, so times --speed): when the last deployment starts waiting for
its steady state, the first is still waiting. The results show the most deployments waiting at
one moment, from the CLI's own lines (`Waiting for Service X to reach steady state` to `Service X
reached steady state`); the target counts as met only when it is N.

Measured: the peak RSS (VmHWM, the kernel's high-water mark) of the `corral run` process, and of
its child processes apart (an ECS-only pipeline starts none; a ShellScript step would); the
same command deploying one service, for what each more deployment costs; the time to the CLI's
done line (`execution ID (bench_rolling #1): Success in ...`) and to its exit; the ECS calls.

The Python API row is the earlier measurement, labelled as such: N `rolling_deploy` calls in
threads of one Python process (no CLI, engine or store; the client-side budget unlimited), run
in a process of its own with its own sandbox (`--python-api`).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_project import image, write_project
from cli_tools import SUCCESS, TOOLS, Workspace, release
from common import write
from deploy_tools import REGION, SandboxProcess, ToolRun, network_of, service_definition, task_definition

from corral.aws.ecs_limits import BUCKETS

CLUSTER = "many"
TARGET_MIB = 150  # issue 17: 200 concurrent deployments <= 150 MiB
HOLD_MARGIN = 30.0  # real seconds every task start waits beyond the last one's registration
SAMPLE_EVERY = 0.25  # s between two VmHWM reads (each reads /proc once per thread of the process)
DONE = re.compile(r"^execution \S+ \(\S+ #\d+\): (?P<status>\S+) in ")
WAITING = re.compile(r"^\s*\[(?P<stage>\S+)/deploy\] Waiting for Service \S+ to reach steady state")
STEADY = re.compile(r"^\s*\[(?P<stage>\S+)/deploy\] Service \S+ reached steady state")
STEP_RUNNING = re.compile(r"^step EcsRollingDeploy (?P<stage>\S+)/deploy: Running")
STEP_ENDED = re.compile(r"^step EcsRollingDeploy (?P<stage>\S+)/deploy: (?!Running)")


def most_at_once(run: ToolRun, starts: re.Pattern[str], ends: re.Pattern[str]) -> int:
    """The most stages between a line of `starts` and their line of `ends` at one moment."""
    edges: list[tuple[float, int]] = []
    open_: set[str] = set()
    for at, text in run.lines:
        for pattern, step in ((starts, 1), (ends, -1)):
            found = pattern.match(text)
            if found is None:
                continue
            stage = found.group("stage")
            if step == 1 and stage not in open_:
                open_.add(stage)
                edges.append((at, step))
            elif step == -1 and stage in open_:
                open_.discard(stage)
                edges.append((at, step))
    alive = most = 0
    for _, step in sorted(edges):
        alive += step
        most = max(most, alive)
    return most


def done_at(run: ToolRun) -> tuple[float | None, str]:
    """When the CLI printed its done line (seconds after it started), and the status it gave."""
    for at, text in run.lines:
        found = DONE.match(text)
        if found:
            return at - run.started, found.group("status")
    return None, "no done line"


def cli_run(sandbox: SandboxProcess, folder: Path, names: list[str], tag: str) -> ToolRun:
    """`corral run` of a new project deploying `names` (new services), to its exit."""
    network = network_of(sandbox)
    project = write_project(
        folder,
        cluster=CLUSTER,
        network=network,
        services={n: service_definition(n, network, 2) for n in names},
        task_definitions={n: task_definition(n, image("0")) for n in names},
    )
    workspace = Workspace(sandbox, CLUSTER, folder.parent, {"corral": project})
    return release(workspace, TOOLS["corral"], names, tag, sample_rss=True, sample_every=SAMPLE_EVERY)[0]


def measure_cli(deployments: int, speed: float, margin: float = HOLD_MARGIN) -> dict[str, Any]:
    burst, refill = BUCKETS["task-definition-modify"]
    hold = max(0.0, (deployments - burst) / refill) + margin
    with (
        tempfile.TemporaryDirectory(prefix="corral-concurrency-") as scratch,
        SandboxProcess(speed=speed, throttling=False) as sandbox,
    ):
        sandbox.client("ecs").create_cluster(clusterName=CLUSTER)
        # tag 1: one deployment, fast; tag 2: the N, whose tasks start after `hold` real seconds
        sandbox.admin.set_images({"image": image("2"), "startDelay": round(hold * speed, 1)})
        one = cli_run(sandbox, Path(scratch) / "one" / "project", ["solo"], "1")
        seq = sandbox.last_seq()
        names = [f"svc-{i:03d}" for i in range(deployments)]
        many = cli_run(sandbox, Path(scratch) / "many" / "project", names, "2")
        calls = Counter(c["operation"] for c in sandbox.calls_since(seq))
    done, status = done_at(many)
    succeeded = sum(1 for _, text in many.lines if SUCCESS["corral"].match(text))
    return {
        "holdSeconds": hold,
        "exitCode": many.exit_code,
        "status": status,
        "succeeded": succeeded,
        "toDoneLine": None if done is None else round(done, 2),
        "toExit": round(many.wall, 2),
        "waitingAtOnce": most_at_once(many, WAITING, STEADY),
        "stepsAtOnce": most_at_once(many, STEP_RUNNING, STEP_ENDED),
        "ownPeakRssMiB": round(many.own_peak_rss_mib, 1),
        "childrenPeakRssMiB": round(many.children_peak_rss_mib, 1),
        "childrenSeen": many.children_seen,
        "onePeakRssMiB": round(one.own_peak_rss_mib, 1),
        "oneExitCode": one.exit_code,
        "cpuSeconds": round(many.cpu_seconds, 2),
        "calls": dict(calls),
        "lastLines": [text.rstrip() for _, text in many.lines[-5:]] if many.exit_code else [],
    }


def python_api(deployments: int, speed: float) -> dict[str, Any]:
    """The earlier measurement: N rolling_deploy calls in threads of this process (no CLI)."""
    from corral.aws.budget import RateBudget
    from corral.aws.clients import AwsSettings, Clients
    from corral.ecs.context import StepContext
    from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
    from corral.ecs.target import EcsTarget

    with SandboxProcess(speed=speed, throttling=False) as sandbox:
        sandbox.client("ecs").create_cluster(clusterName=CLUSTER)
        network = network_of(sandbox)
        settings = AwsSettings(
            region=REGION, endpoint_url=sandbox.endpoint, access_key_id="testing", secret_access_key="testing"
        )
        # neither the sandbox nor Corral's client-side budget limits the rate here: all N
        # deployments are past RegisterTaskDefinition and waiting together
        unlimited = {name: (1e9, 1e9) for name in BUCKETS}
        clients = Clients(settings, budget=RateBudget(limits=unlimited))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        failures: list[str] = []

        def deploy(i: int) -> None:
            name = f"svc-{i:03d}"
            target = EcsTarget(
                cluster=CLUSTER,
                service_definition=service_definition(name, network, 2),
                task_definition=task_definition(name, "app:1"),
            )
            try:
                rolling_deploy(StepContext.with_timeout(clients, 900), target, RollingDeployOptions())
            except Exception as exc:  # counted and reported
                failures.append(f"{name}: {exc}")

        started = time.monotonic()
        threads = [threading.Thread(target=deploy, args=(i,)) for i in range(deployments)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "succeeded": deployments - len(failures),
        "peakRssMiB": round(peak, 1),
        "beforeMiB": round(before, 1),
        "wall": round(wall, 1),
        "failures": failures[:5],
    }


def python_api_in_own_process(deployments: int, speed: float) -> dict[str, Any]:
    """python_api in a fresh interpreter, so the CLI measurement's threads and lines do not count."""
    out = subprocess.run(
        [sys.executable, __file__, "--python-api", "--deployments", str(deployments), "--speed", str(speed)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def rows_of(
    args: argparse.Namespace, cli: dict[str, Any], api: dict[str, Any] | None
) -> list[dict[str, Any]]:
    n = args.deployments
    all_at_once = cli["waitingAtOnce"] == n
    peak = cli["ownPeakRssMiB"]
    per_more = (peak - cli["onePeakRssMiB"]) / (n - 1) if n > 1 else 0.0
    rows: list[dict[str, Any]] = [
        {
            "metric": "command, deployments, sandbox speed",
            "value": f"`corral run bench_rolling --input tag=2`: {n} ECS Rolling Deploy stages in parallel, "
            f"each creating a Fargate service of 2 tasks; {args.speed:g}x, throttling off",
        },
        {
            "metric": "deployments that succeeded (step Success lines); exit code; done line's status",
            "value": f"{cli['succeeded']}/{n}; {cli['exitCode']}; {cli['status']}",
            "target": "all; 0; Success",
            "met": cli["succeeded"] == n and cli["exitCode"] == 0 and cli["status"] == "Success",
        },
        {
            "metric": "deployments waiting for their steady state at one moment, most (steps running at once)",
            "value": f"{cli['waitingAtOnce']} ({cli['stepsAtOnce']})",
            "target": f"{n}",
            "met": all_at_once,
        },
        {
            "metric": f"peak RSS of the `corral run` process, {n} deployments (MiB)",
            "value": peak,
            "target": f"≤ {TARGET_MIB} MiB, all {n} at once",
            "met": peak <= TARGET_MIB and all_at_once,
            **({} if all_at_once else {"note": f"only {cli['waitingAtOnce']} waited at once"}),
        },
        {
            "metric": "peak RSS of its child processes, summed (processes seen)",
            "value": f"{cli['childrenPeakRssMiB']} MiB ({cli['childrenSeen']})",
        },
        {
            "metric": "peak RSS of the same command deploying 1 service (MiB); each more deployment (MiB)",
            "value": f"{cli['onePeakRssMiB']}; {per_more:.3f}",
        },
        {
            "metric": "time to the done line; to the process exit (s)",
            "value": f"{cli['toDoneLine']}; {cli['toExit']}",
        },
        {
            "metric": "tasks' start held (real s): the last registration's earliest moment + margin",
            "value": f"{cli['holdSeconds']:.0f}",
        },
        {"metric": "CPU seconds of `corral run`", "value": cli["cpuSeconds"]},
        {
            "metric": "ECS calls: DescribeServices (10 services a call); all",
            "value": f"{cli['calls'].get('DescribeServices', 0)}; {sum(cli['calls'].values())}",
        },
    ]
    if api is not None:
        rows += [
            {
                "metric": f"Python API, not the CLI: {n} rolling_deploy calls in threads of one process, "
                "budget unlimited: succeeded; wall time (s)",
                "value": f"{api['succeeded']}/{n}; {api['wall']}",
            },
            {
                "metric": "Python API, not the CLI: peak RSS of that process; before the deployments (MiB)",
                "value": f"{api['peakRssMiB']}; {api['beforeMiB']}",
            },
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=200)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--no-python-api", action="store_true", help="skip the Python API row")
    parser.add_argument("--python-api", action="store_true", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.python_api:
        print(json.dumps(python_api(args.deployments, args.speed)))
        return
    cli = measure_cli(args.deployments, args.speed)
    print(json.dumps({k: v for k, v in cli.items() if k != "calls"}), flush=True)
    api = None if args.no_python_api else python_api_in_own_process(args.deployments, args.speed)
    path = write(
        "concurrency",
        f"{args.deployments} concurrent deployments: one `corral run`",
        rows_of(args, cli, api),
        {"speed": args.speed, "cli": cli, "pythonApi": api},
    )
    with path.open("a") as out:
        out.write("\n" + (__doc__ or "").split("\n\n", 2)[2])
    print(path.read_text())


if __name__ == "__main__":
    main()
