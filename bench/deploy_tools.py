"""Shared by the deployment benchmarks: a sandbox subprocess, a service to deploy, tool subprocesses.

Each deployment tool runs in its own process, started by `run_tool`, so its CPU seconds (from
`os.wait4`, the child's rusage) and peak RSS (its VmHWM in /proc) have neither the sandbox's nor
the benchmark's own work mixed in. The sandbox is a `corral sandbox` subprocess too.

`python bench/deploy_tools.py corral ENDPOINT CLUSTER SERVICE IMAGE...` is the Corral side: one process
running `corral.ecs.rolling.rolling_deploy` through the Python API, for each SERVICE given (in
threads, sharing the process's pollers and rate budget when there are several).
`python bench/deploy_tools.py waiter ENDPOINT CLUSTER SERVICE IMAGE` is the boto3 baseline:
RegisterTaskDefinition + UpdateService + the `services_stable` waiter (15 s delay).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
HERE = Path(__file__).resolve()
DONE = re.compile(r"DONE (\S+) (\d+\.\d+)")
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class SandboxProcess:
    """`corral sandbox` as a subprocess on a free port."""

    def __init__(self, *, speed: float, throttling: bool) -> None:
        args = [sys.executable, "-m", "corral.cli", "sandbox", "--port", "0", "--speed", str(speed)]
        if not throttling:
            args.append("--no-throttling")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.endpoint = line.split(" on ", 1)[1].split(" ", 1)[0]
        self.speed = speed
        from corral.sandbox import SandboxAdmin

        self.admin = SandboxAdmin(self.endpoint)

    def client(self, name: str) -> Any:
        return boto3.client(
            name,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "max_attempts": 20}),
        )

    def env(self) -> dict[str, str]:
        return {**os.environ, **DUMMY_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ measurements

    def last_seq(self) -> int:
        return int(self.admin._call("GET", "/calls?since=1000000000000")["last"])

    def calls_since(self, seq: int) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []
        while True:
            page = self.admin._call("GET", f"/calls?since={seq}")["calls"]
            if not page:
                return calls
            calls += page
            seq = page[-1]["seq"]

    def steady_real_times(
        self, service: str, after_sandbox: float, calls: list[dict[str, Any]]
    ) -> list[float]:
        """The real (epoch) moments `service` reached a steady state after `after_sandbox`.

        The sandbox records them in sandbox time. Its clock is real time scaled by `speed` from
        an origin (nothing here advances it), and every call log entry carries both clocks, so
        real = call.time + (steadyAt - call.sandbox_time) / speed, using the entry nearest in
        sandbox time (the error is that entry's few microseconds between its two readings)."""
        found = []
        for record in self.admin.steady_states():
            if record["service"] != service:
                continue
            for at in record["steadyAt"]:
                if at > after_sandbox:
                    ref = min(calls, key=lambda c: abs(c["sandbox_time"] - at))
                    found.append(ref["time"] + (at - ref["sandbox_time"]) / self.speed)
        return found


def subnets(sandbox: SandboxProcess) -> tuple[list[str], str]:
    ec2 = sandbox.client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    found = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    return found[:2], group


def task_definition(family: str, image: str) -> dict[str, Any]:
    return {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {"name": "app", "image": image, "essential": True, "portMappings": [{"containerPort": 80}]}
        ],
    }


def service_definition(name: str, network: dict[str, Any], desired: int) -> dict[str, Any]:
    return {
        "serviceName": name,
        "launchType": "FARGATE",
        "desiredCount": desired,
        "networkConfiguration": network,
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
    }


def network_of(sandbox: SandboxProcess) -> dict[str, Any]:
    nets, group = subnets(sandbox)
    return {"awsvpcConfiguration": {"subnets": nets, "securityGroups": [group], "assignPublicIp": "DISABLED"}}


def create_services(
    sandbox: SandboxProcess, cluster: str, names: list[str], image: str, *, desired: int = 2
) -> None:
    """Create the services (one task definition family each) and wait until all are steady."""
    ecs = sandbox.client("ecs")
    network = network_of(sandbox)
    ecs.create_cluster(clusterName=cluster)
    for name in names:
        arn = ecs.register_task_definition(**task_definition(name, image))["taskDefinition"][
            "taskDefinitionArn"
        ]
        ecs.create_service(cluster=cluster, taskDefinition=arn, **service_definition(name, network, desired))
    give_up = time.monotonic() + 600
    while time.monotonic() < give_up:
        steady = 0
        for i in range(0, len(names), 10):
            for s in ecs.describe_services(cluster=cluster, services=names[i : i + 10])["services"]:
                d = s["deployments"]
                steady += (
                    len(d) == 1 and d[0].get("rolloutState") == "COMPLETED" and s["runningCount"] == desired
                )
        if steady == len(names):
            return
        time.sleep(0.5)
    raise RuntimeError("services did not reach a steady state")


@dataclass
class ToolRun:
    tool: str
    exit_code: int
    started: float  # epoch seconds
    ended: float
    cpu_seconds: float
    peak_rss_mib: float
    output: str = ""
    done_at: dict[str, float] = field(default_factory=dict)  # service -> epoch when reported done

    @property
    def wall(self) -> float:
        return self.ended - self.started


def run_tool(tool: str, args: list[str], env: dict[str, str], *, timeout: float = 900) -> ToolRun:
    """Run one tool process to its end; CPU from its rusage (os.wait4), peak RSS from its VmHWM."""
    started = time.time()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    done_at: dict[str, float] = {}

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            for service, at in DONE.findall(line):
                done_at[service] = float(at)

    # ru_maxrss of a child also counts the benchmark's own pages copied at fork (Linux records the
    # old mm's high-water mark at exec), so the peak RSS is the child's VmHWM, read until it exits
    peak_kib = 0
    exited = threading.Event()

    def sample() -> None:
        nonlocal peak_kib
        status_file = Path(f"/proc/{process.pid}/status")
        while not exited.is_set():
            try:
                for line in status_file.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kib = max(peak_kib, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            exited.wait(0.02)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    exited.set()
    ended = time.time()
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    return ToolRun(
        tool=tool,
        exit_code=process.returncode,
        started=started,
        ended=ended,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=peak_kib / 1024,
        output="".join(lines),
        done_at=done_at,
    )


# ---------------------------------------------------------------- the tool processes


def _corral(endpoint: str, cluster: str, services: list[str], image: str) -> int:
    from corral.aws.budget import RateBudget
    from corral.aws.clients import AwsSettings, Clients
    from corral.ecs.context import StepContext
    from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
    from corral.ecs.target import EcsTarget

    settings = AwsSettings(
        region=REGION,
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        # an SQS queue of the Region's ECS events (corral.aws.events): steps look when events say
        ecs_events_queue_url=os.environ.get("BENCH_EVENTS_QUEUE") or None,
    )
    # the default budget takes ECS's whole buckets and adapts to throttling (corral.aws.budget);
    # "full" pins the shares at 1.0 (what the default was compared with when it took less)
    full = os.environ.get("BENCH_BUDGET") == "full"
    budget = RateBudget(refill_share=1.0, burst_share=1.0) if full else RateBudget()
    clients = Clients(settings, budget=budget)
    network = json.loads(os.environ["BENCH_NETWORK"])
    desired = int(os.environ.get("BENCH_DESIRED", "2"))
    failures = 0
    lock = threading.Lock()

    def deploy(name: str) -> None:
        nonlocal failures
        target = EcsTarget(
            cluster=cluster,
            service_definition=service_definition(name, network, desired),
            task_definition=task_definition(name, image),
        )
        try:
            rolling_deploy(StepContext.with_timeout(clients, 900), target, RollingDeployOptions())
            with lock:
                sys.stdout.write(f"DONE {name} {time.time()}\n")
                sys.stdout.flush()
        except Exception as exc:  # reported, counted: the benchmark counts failed deployments
            with lock:
                failures += 1
                sys.stdout.write(f"FAILED {name} {type(exc).__name__}: {exc}\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=deploy, args=(name,)) for name in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 1 if failures else 0


def _waiter(endpoint: str, cluster: str, service: str, image: str) -> int:
    ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION)
    arn = ecs.register_task_definition(**task_definition(service, image))["taskDefinition"][
        "taskDefinitionArn"
    ]
    ecs.update_service(cluster=cluster, service=service, taskDefinition=arn)
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service])
    print(f"DONE {service} {time.time()}", flush=True)
    return 0


if __name__ == "__main__":
    kind, endpoint_url, cluster_arg, *rest = sys.argv[1:]
    if kind == "corral":
        sys.exit(_corral(endpoint_url, cluster_arg, rest[:-1], rest[-1]))
    sys.exit(_waiter(endpoint_url, cluster_arg, rest[0], rest[1]))
