"""How long `corral validate` takes on a 50-service project.

Generates a project in a temporary folder (50 services, each with a task definition, a
service definition, a scalable target and a scaling policy in the file store, an artifact,
service variables; two environments with one infrastructure each and environment
overrides; one Blue Green pipeline per service), runs `corral validate` on it 5 times as a
subprocess (what a user or a CI job runs, start-up included) and writes the median to
bench/results/validate.json and bench/results/validate.md with the machine, the commit, whether
the tree was dirty and the load average (bench/common.py).

    python bench/validate_bench.py [--services 50] [--runs 5]

PYTHONDONTWRITEBYTECODE is dropped for the measured processes and their bytecode goes to a
folder under the temporary directory: with it set, every run would compile Corral's modules
from source again, which no installed copy does.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write

TARGET_SECONDS = 2.0
PYCACHE = Path(tempfile.gettempdir()) / "corral-bench-pycache"

TASK = """family: svc-{n}
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: "256"
memory: "512"
executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
containerDefinitions:
  - name: app
    image: <+artifact.image>
    essential: true
    portMappings:
      - containerPort: <+serviceVariables.port>
        protocol: tcp
    environment:
      - name: ENVIRONMENT
        value: <+env.name>
      - name: LOG_LEVEL
        value: <+serviceVariables.logLevel>
    logConfiguration:
      logDriver: awslogs
      options:
        awslogs-group: /ecs/svc-{n}
        awslogs-region: <+infra.region>
        awslogs-stream-prefix: app
"""
SERVICE_DEF = """serviceName: svc-{n}
desiredCount: <+serviceVariables.replicas>
deploymentConfiguration:
  maximumPercent: 200
  minimumHealthyPercent: 100
loadBalancers:
  - targetGroupArn: <+targetGroupArn>
    containerName: app
    containerPort: <+serviceVariables.port>
"""
TARGET = (
    "serviceNamespace: ecs\nscalableDimension: ecs:service:DesiredCount\nminCapacity: 1\nmaxCapacity: 6\n"
)
POLICY = """policyName: cpu
policyType: TargetTrackingScaling
targetTrackingScalingPolicyConfiguration:
  targetValue: 60
  predefinedMetricSpecification:
    predefinedMetricType: ECSServiceAverageCPUUtilization
"""
SERVICE = (
    """service:
  name: Service {n}
  identifier: svc_{n}
  serviceDefinition:
    type: ECS
    spec:
      manifests:
"""
    + "".join(
        f"""        - manifest:
            identifier: {ident}
            type: {kind}
            spec:
              store:
                type: Harness
                spec:
                  files: [account:/svc-{{n}}/{name}]
"""
        for ident, kind, name in (
            ("task_def", "EcsTaskDefinition", "task.yaml"),
            ("service_def", "EcsServiceDefinition", "service.yaml"),
            ("target", "EcsScalableTargetDefinition", "target.yaml"),
            ("policy", "EcsScalingPolicyDefinition", "policy.yaml"),
        )
    )
    + """      artifacts:
        primary:
          primaryArtifactRef: app
          sources:
            - identifier: app
              type: DockerRegistry
              spec:
                connectorRef: registry
                imagePath: acme/svc-{n}
                tag: "1.{n}.0"
      variables:
        - {{name: port, type: Number, value: 8080}}
        - {{name: replicas, type: Number, value: 2}}
        - {{name: logLevel, type: String, value: info}}
---
pipeline:
  name: Deploy service {n}
  identifier: deploy_svc_{n}
  stages:
    - stage:
        name: Deploy
        identifier: deploy
        type: Deployment
        spec:
          deploymentType: ECS
          service:
            serviceRef: svc_{n}
          environment:
            environmentRef: <+input>.allowedValues(staging,production)
            infrastructureDefinitions:
              - identifier: main
          execution:
            steps:
              - step:
                  name: Create service
                  identifier: create
                  type: EcsBlueGreenCreateService
                  timeout: 10m
                  spec:
                    loadBalancer: <+input>
                    prodListener: <+input>
                    stageListener: <+input>
              - step:
                  name: Swap
                  identifier: swap
                  type: EcsBlueGreenSwapTargetGroups
                  timeout: 10m
                  spec: {{}}
            rollbackSteps:
              - step:
                  name: Rollback
                  identifier: rollback
                  type: EcsBlueGreenRollback
                  timeout: 10m
                  spec: {{}}
"""
)
ENVIRONMENT = """environment:
  name: {name}
  identifier: {ident}
  type: {kind}
  overrides:
    variables:
      - {{name: logLevel, type: String, value: {level}}}
---
infrastructureDefinition:
  name: {name} cluster
  identifier: main
  environmentRef: {ident}
  type: ECS
  spec:
    connectorRef: aws
    region: us-east-1
    cluster: {ident}
    launchType: FARGATE
    networkConfiguration:
      subnets: [subnet-0a1b2c3d4e5f60718]
      securityGroups: [sg-0a1b2c3d4e5f60718]
"""
CONNECTORS = """connector:
  name: AWS
  identifier: aws
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
      region: us-east-1
---
connector:
  name: Registry
  identifier: registry
  type: DockerRegistry
  spec:
    dockerRegistryUrl: https://registry.example.internal
    auth:
      type: Anonymous
"""


def generate(root: Path, services: int) -> None:
    (root / "corral.yaml").write_text("project:\n  name: benchmark\n")
    (root / "connectors.yaml").write_text(CONNECTORS)
    (root / "environments").mkdir()
    for ident, kind, level in (("staging", "PreProduction", "debug"), ("production", "Production", "warn")):
        text = ENVIRONMENT.format(name=ident.title(), ident=ident, kind=kind, level=level)
        (root / "environments" / f"{ident}.yaml").write_text(text)
    for n in range(1, services + 1):
        folder = root / "services"
        folder.mkdir(exist_ok=True)
        (folder / f"svc-{n}.yaml").write_text(SERVICE.format(n=n))
        store = root / "files" / "account" / f"svc-{n}"
        store.mkdir(parents=True)
        for name, text in (
            ("task.yaml", TASK),
            ("service.yaml", SERVICE_DEF),
            ("target.yaml", TARGET),
            ("policy.yaml", POLICY),
        ):
            (store / name).write_text(text.format(n=n))


def time_validate(root: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process, its summary line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "corral.cli", "validate", "--project", str(root)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"corral validate failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed, cpu, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="corral-bench-") as folder:
        root = Path(folder)
        generate(root, args.services)
        time_validate(root)  # warm the file system cache and Python's bytecode cache
        runs, cpus = [], []
        summary = ""
        load_before = os.getloadavg()[0]
        for _ in range(args.runs):
            elapsed, cpu, summary = time_validate(root)
            runs.append(round(elapsed, 3))
            cpus.append(round(cpu, 3))
        load_after = os.getloadavg()[0]
    median = round(statistics.median(runs), 3)
    headline = summary.splitlines()[0] if summary else ""
    rows = [
        {"metric": "load average (1 min) at the start", "value": round(load_before, 2)},
        {
            "metric": f"corral validate, {args.services}-service project: median wall time of {args.runs} (s)",
            "value": median,
            "target": f"< {TARGET_SECONDS:g} s",
            "met": median < TARGET_SECONDS,
        },
        {"metric": "same, median CPU time of the process (s)", "value": round(statistics.median(cpus), 3)},
        {"metric": "load average (1 min) at the end", "value": round(load_after, 2)},
    ]
    data = {
        "benchmark": "corral validate, subprocess, start-up included",
        "services": args.services,
        "project": headline,
        "runs_seconds": runs,
        "cpu_seconds": cpus,
    }
    path = write("validate", f"corral validate on a {args.services}-service project", rows, data)
    with path.open("a") as md:
        md.write(
            f"""
Runs: {", ".join(f"{r:.2f} s" for r in runs)}. Each run is `python -m corral.cli validate --project DIR`
as a subprocess, Python start-up and imports included, after one warm-up run (bytecode cached);
on a busy machine the wall time is above the CPU time.

Project: {headline}
Each service has a task definition, a service definition, a scalable target and a scaling
policy in the file store, an artifact and three variables, and a Blue Green pipeline;
two environments with one Fargate infrastructure each.

Reproduce: `python bench/validate_bench.py`
"""
        )
    print(path.read_text())


if __name__ == "__main__":
    main()
