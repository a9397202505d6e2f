"""Shared by the deployment benchmarks: a sandbox subprocess, the services to deploy, tool processes.

Each tool runs as its own process (bench/cli_tools.py says which command), started by
`run_process`, which timestamps every line of its output as it arrives (the tools print and
flush line by line; PYTHONUNBUFFERED keeps it so through a pipe, as at a terminal), and takes its
CPU seconds from `os.wait4` (the child's rusage, its waited-for children included) and its peak
RSS from the VmHWM of each process of its tree in /proc. The sandbox is a `corral sandbox`
subprocess, so its CPU is never counted for a tool.
"""

from __future__ import annotations

import os
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
ROOT = Path(__file__).resolve().parent.parent
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
# the single-deploy service's load balancer health check and draining: AWS's allowed ranges
# (interval 5-300 s, healthy threshold 2-10, deregistration delay 0-3600 s), short ones so a
# deployment at speed 1 takes under a minute
HEALTH_CHECK_INTERVAL = 10
HEALTHY_THRESHOLD = 2
DEREGISTRATION_DELAY = 30


class SandboxProcess:
    """`corral sandbox` as a subprocess on a free port."""

    def __init__(self, *, speed: float, throttling: bool, timing_seed: int | None = None) -> None:
        args = [sys.executable, "-m", "corral.cli", "sandbox", "--port", "0", "--speed", str(speed)]
        if not throttling:
            args.append("--no-throttling")
        if timing_seed is not None:
            args += ["--timing-seed", str(timing_seed)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=corral_env())
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


def corral_env() -> dict[str, str]:
    """This checkout's Corral for every process the benchmark starts (sandbox and `corral`)."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def default_network(sandbox: SandboxProcess) -> tuple[str, list[str], str]:
    ec2 = sandbox.client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    found = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    return vpc, sorted(found)[:2], group


def network_of(sandbox: SandboxProcess) -> dict[str, Any]:
    _, nets, group = default_network(sandbox)
    return {"awsvpcConfiguration": {"subnets": nets, "securityGroups": [group], "assignPublicIp": "DISABLED"}}


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


def service_definition(
    name: str, network: dict[str, Any], desired: int, target_group: str | None = None
) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "serviceName": name,
        "launchType": "FARGATE",
        "desiredCount": desired,
        "networkConfiguration": network,
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
    }
    if target_group:
        definition["loadBalancers"] = [
            {"targetGroupArn": target_group, "containerName": "app", "containerPort": 80}
        ]
    return definition


def load_balanced(sandbox: SandboxProcess, name: str) -> str:
    """An application load balancer with a listener forwarding to a new `ip` target group; its ARN."""
    vpc, nets, group = default_network(sandbox)
    elb = sandbox.client("elbv2")
    balancer = elb.create_load_balancer(Name=name, Subnets=nets, SecurityGroups=[group])["LoadBalancers"][0]
    target_group = elb.create_target_group(
        Name=name,
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckIntervalSeconds=HEALTH_CHECK_INTERVAL,
        HealthyThresholdCount=HEALTHY_THRESHOLD,
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(
        TargetGroupArn=target_group,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(DEREGISTRATION_DELAY)}],
    )
    elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    return str(target_group)


def create_services(
    sandbox: SandboxProcess,
    cluster: str,
    definitions: dict[str, dict[str, Any]],
    task_definitions: dict[str, dict[str, Any]],
) -> None:
    """Create the services (one task definition family each) and wait until all are steady.

    The calls keep to ECS's token buckets (corral.aws.ecs_limits) rather than lean on boto3's
    retries: a client's standard retries stop once their quota is spent (about 100 throttled
    calls), which 200 registrations at 1 per second would exceed."""
    from corral.aws.ecs_limits import BUCKETS

    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    register, create = _Pace(*BUCKETS["task-definition-modify"]), _Pace(*BUCKETS["service-modify"])
    for name, definition in definitions.items():
        register.wait()
        arn = ecs.register_task_definition(**task_definitions[name])["taskDefinition"]["taskDefinitionArn"]
        create.wait()
        ecs.create_service(cluster=cluster, taskDefinition=arn, **definition)
    names = list(definitions)
    _, read_refill = BUCKETS["service-read"]
    read_pause = max(0.5, (len(names) + 9) // 10 / (read_refill / 2))
    give_up = time.monotonic() + 900
    while time.monotonic() < give_up:
        steady = 0
        for i in range(0, len(names), 10):
            for s in ecs.describe_services(cluster=cluster, services=names[i : i + 10])["services"]:
                d = s["deployments"]
                steady += (
                    len(d) == 1
                    and d[0].get("rolloutState") == "COMPLETED"
                    and s["runningCount"] == definitions[s["serviceName"]]["desiredCount"]
                )
        if steady == len(names):
            return
        time.sleep(read_pause)
    raise RuntimeError("services did not reach a steady state")


class _Pace:
    """Calls of one ECS token bucket, from a full bucket: the first `burst` at once, then one per
    1/refill seconds (and a little more, so the sandbox's bucket always has the token)."""

    def __init__(self, burst: float, refill: float) -> None:
        self.burst, self.interval = burst, 1.05 / refill
        self.calls = 0
        self.started = time.monotonic()

    def wait(self) -> None:
        due = self.started + max(0.0, self.calls + 1 - self.burst) * self.interval
        time.sleep(max(0.0, due - time.monotonic()))
        self.calls += 1


@dataclass
class ToolRun:
    tool: str
    exit_code: int
    started: float  # epoch seconds
    ended: float
    cpu_seconds: float
    peak_rss_mib: float  # the largest VmHWM of any process of its tree
    lines: list[tuple[float, str]] = field(default_factory=list)  # (epoch when it arrived, text)
    own_peak_rss_mib: float = 0.0  # the VmHWM of the process started (not its children)
    children_peak_rss_mib: float = 0.0  # the VmHWMs of its descendants seen, summed
    children_seen: int = 0  # descendants seen by the sampler

    @property
    def wall(self) -> float:
        return self.ended - self.started

    @property
    def output(self) -> str:
        return "".join(text for _, text in self.lines)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return found


def run_process(
    tool: str,
    args: list[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    timeout: float = 1800,
    sample_rss: bool = True,
    sample_every: float = 0.02,
) -> ToolRun:
    """Run one tool process to its end, each output line stamped with the moment it was read.

    `sample_rss=False` (fifty processes at once) leaves the peak RSS at 0 rather than have fifty
    samplers compete with the tools for the CPU. VmHWM is the kernel's own high-water mark, so a
    longer `sample_every` loses nothing of a long-lived process; it only may miss a short-lived
    child (a process of 200 threads costs one /proc read per thread and sample)."""
    started = time.time()
    process = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.time(), line))

    # ru_maxrss of a child also counts the benchmark's own pages copied at fork (Linux records the
    # old mm's high-water mark at exec), so the peak RSS is the largest VmHWM of the tool's processes
    peaks: dict[int, int] = {}
    exited = threading.Event()

    def sample() -> None:
        while not exited.is_set():
            for pid in _descendants(process.pid):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
                except (OSError, ValueError):
                    pass
            exited.wait(sample_every)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if sample_rss:
        threading.Thread(target=sample, daemon=True).start()
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
    ended = time.time()
    exited.set()
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    return ToolRun(
        tool=tool,
        exit_code=process.returncode,
        started=started,
        ended=ended,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=max(peaks.values(), default=0) / 1024,
        lines=lines,
        own_peak_rss_mib=peaks.get(process.pid, 0) / 1024,
        children_peak_rss_mib=sum(v for pid, v in peaks.items() if pid != process.pid) / 1024,
        children_seen=sum(1 for pid in peaks if pid != process.pid),
    )
