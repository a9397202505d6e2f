"""Sandbox cost at scale: CPU and memory with 200 services of 2 tasks each at steady state, --speed 10.

Run: python bench/sandbox_bench.py [--services 200] [--window 20]
Writes bench/results/sandbox.json and bench/results/sandbox.md.

The sandbox runs as its own process (`corral sandbox`), so its CPU time and memory are read from
/proc without the benchmark's own boto3 work mixed in.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from common import write

CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--window", type=float, default=20.0, help="real seconds of steady state to measure")
    args = parser.parse_args()

    process = subprocess.Popen(
        [sys.executable, "-m", "corral.cli", "sandbox", "--port", "0", "--speed", "10", "--no-throttling"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().split(" on ", 1)[1].split(" ", 1)[0]
        ecs = boto3.client(
            "ecs",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "max_attempts": 10}),
        )
        # simulated EC2 container instances to place the tasks on (see docs/sandbox.md)
        ecs.create_cluster(
            clusterName="bench", tags=[{"key": "corral:sandbox:containerInstances", "value": "20"}]
        )
        arn = ecs.register_task_definition(
            family="bench",
            containerDefinitions=[{"name": "app", "image": "nginx:latest", "memory": 128, "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        started = time.monotonic()
        names = [f"svc-{i:03d}" for i in range(args.services)]
        for name in names:
            ecs.create_service(cluster="bench", serviceName=name, taskDefinition=arn, desiredCount=args.tasks)
        give_up = time.monotonic() + 600
        while time.monotonic() < give_up:
            steady = 0
            for i in range(0, len(names), 10):
                for service in ecs.describe_services(cluster="bench", services=names[i : i + 10])["services"]:
                    deployment = service["deployments"][0]
                    steady += (
                        len(service["deployments"]) == 1 and deployment.get("rolloutState") == "COMPLETED"
                    )
            if steady == len(names):
                break
            time.sleep(1)
        else:
            raise SystemExit(f"only {steady} of {len(names)} services reached a steady state in 10 minutes")
        settle = time.monotonic() - started
        time.sleep(2)  # let the last events and timers settle
        cpu_before = cpu_seconds(process.pid)
        time.sleep(args.window)
        idle_cpu = cpu_seconds(process.pid) - cpu_before
        rss = memory_mib(process.pid, "VmRSS")
        peak = memory_mib(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(timeout=30)

    share = idle_cpu / args.window
    rows = [
        {"metric": "services x tasks", "value": f"{args.services} x {args.tasks}"},
        {"metric": "time to reach steady state (real s, speed 10)", "value": round(settle, 1)},
        {
            "metric": f"CPU at steady state (share of one core over {args.window:g} s)",
            "value": f"{share:.1%}",
            "target": "timers and events, no busy loop (< 5%)",
            "met": share < 0.05,
        },
        {"metric": "RSS at steady state (MiB)", "value": round(rss, 1)},
        {"metric": "peak RSS (MiB)", "value": round(peak, 1)},
    ]
    path = write(
        "sandbox",
        f"Sandbox: {args.services} services at steady state",
        rows,
        {
            "settleSeconds": settle,
            "idleCpuSeconds": idle_cpu,
            "windowSeconds": args.window,
            "rssMiB": rss,
            "peakRssMiB": peak,
        },
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
