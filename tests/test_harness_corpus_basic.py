"""The Harness corpus's ECS Basic and ECS Scale pipelines run on the sandbox as written.

`ECS_Basic_Phased` (Harness's phased basic sample), `ecs_basic_with_scale` (Harness's ECS Scale
sample: basic deployment, approval, ECS Scale of another service in another cluster) and
`ECS_Scale_Backend` (ECS Scale in a Custom stage) run through the engine in this process with
only their run-time inputs given. A failure injected at each step (a failing release, an abort
while the step runs, a scale whose tasks fail) must leave every service, count and autoscaling
exactly as before.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.config import load_project
from corral.engine import EmbeddedExecutor, Execution, abort, create_execution, get_execution
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy
from tests.e2e.approvals import approver
from tests.e2e.conftest import FAST_POLLS, fast_options, use_sandbox_aws

from .test_harness_corpus import CORPUS, IMAGE, PROJECT, READY_PENDING

BACKEND_CLUSTER, BACKEND = "my-ecs-cluster", "my_backend_service"  # named by the Scale sample
BACKEND_IMAGE = "registry.hub.docker.com/library/httpd:2.4"
VERSIONS = ("myapp__1", "myapp__2", "myapp__3")

pytestmark = pytest.mark.sandbox(speed=150)


class Corpus:
    def __init__(self, sandbox: Sandbox, root: Path, store: Store) -> None:
        self.sandbox, self.root, self.store = sandbox, root, store
        self.project = load_project(root)
        ec2 = sandbox.client("ec2")
        vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
        self.subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0][
            "SubnetId"
        ]
        self.group = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]["GroupId"]
        self.ecs = sandbox.client("ecs")
        self.scaling = sandbox.client("application-autoscaling")
        self.ecs.create_cluster(clusterName="staging")  # the infrastructure definition's cluster

    def start(self, pipeline: str) -> str:
        # the service variables securityGroup and subnet are the run-time inputs (the Custom stage has none)
        inputs = {"variables[0].value": self.group, "variables[1].value": self.subnet}
        if pipeline in ("ECS_Scale_Backend", "scale_then_check"):
            inputs = {}
        record = create_execution(self.project, pipeline, store=self.store, inputs=inputs)
        executor = EmbeddedExecutor(self.store, self.project, fast_options())
        thread = threading.Thread(target=executor.run, args=(record.id,), daemon=True)
        thread.start()
        self.threads = getattr(self, "threads", {}) | {record.id: thread}
        return record.id

    def result(self, execution_id: str) -> Execution:
        self.threads[execution_id].join(180)
        assert not self.threads[execution_id].is_alive(), "the execution did not end"
        return get_execution(execution_id, store=self.store)

    def run(self, pipeline: str) -> Execution:
        return self.result(self.start(pipeline))

    def wait_running(self, execution_id: str, step: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(s.identifier == step and s.status == "Running" for s in self.store.steps(execution_id)):
                return
            time.sleep(0.01)
        raise AssertionError(f"step {step} never ran")

    def state(self, cluster: str, *names: str) -> dict[str, Any]:
        """What a person checks: each service's status, task definition and counts, its autoscaling."""
        found = {}
        for name in names:
            described = self.ecs.describe_services(cluster=cluster, services=[name])["services"]
            service = described[0] if described and described[0]["status"] == "ACTIVE" else None
            rid = f"service/{cluster}/{name}"
            targets = self.scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])
            policies = self.scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid)
            found[name] = {
                "service": None
                if service is None
                else {k: service[k] for k in ("taskDefinition", "desiredCount", "runningCount")},
                "deployments": None if service is None else len(service["deployments"]),
                "scalableTargets": [(t["MinCapacity"], t["MaxCapacity"]) for t in targets["ScalableTargets"]],
                "scalingPolicies": [p["PolicyName"] for p in policies["ScalingPolicies"]],
            }
        return found

    def autoscale(self, cluster: str, name: str) -> None:
        """Autoscaling a user attached by hand to the running version."""
        rid = f"service/{cluster}/{name}"
        dimension = "ecs:service:DesiredCount"
        self.scaling.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=dimension, MinCapacity=1, MaxCapacity=8
        )
        self.scaling.put_scaling_policy(
            PolicyName="cpu60",
            ServiceNamespace="ecs",
            ResourceId=rid,
            ScalableDimension=dimension,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            },
        )

    def backend(self, desired: int) -> None:
        """The other service the Scale sample scales, in its own cluster (made with plain boto3)."""
        self.ecs.create_cluster(clusterName=BACKEND_CLUSTER)
        arn = self.ecs.register_task_definition(
            family="backend",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "httpd", "image": BACKEND_IMAGE, "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        self.ecs.create_service(
            cluster=BACKEND_CLUSTER,
            serviceName=BACKEND,
            taskDefinition=arn,
            desiredCount=desired,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.group]}
            },
        )
        self.wait_counts(BACKEND_CLUSTER, BACKEND, desired)

    def wait_counts(self, cluster: str, name: str, desired: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            [service] = self.ecs.describe_services(cluster=cluster, services=[name])["services"]
            if (
                service["runningCount"] == service["desiredCount"] == desired
                and len(service["deployments"]) == 1
            ):
                return
            time.sleep(0.05)
        raise AssertionError(f"{name} never ran {desired} tasks")


@pytest.fixture
def corpus(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Corpus]:
    root = tmp_path / "ecs_tutorial"
    shutil.copytree(PROJECT, root)
    for name in READY_PENDING:
        shutil.copytree(CORPUS / "pending" / name, root, dirs_exist_ok=True)
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    set_poll_policy(FAST_POLLS)
    store = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
    try:
        yield Corpus(sandbox, root, store)
    finally:
        set_poll_policy(None)
        store.close()


def test_the_phased_basic_pipeline_deploys_and_every_failure_restores_exactly(corpus: Corpus) -> None:
    first = corpus.run("ECS_Basic_Phased")
    assert first.status == "Success", first.error
    assert first.step("EcsServiceSetup_1").outputs["newService"] == "myapp__1"
    assert first.step("EcsUpgradeContainer_1").outputs["newServiceDesiredCount"] == 2  # 50 % of 4
    live = corpus.state("staging", *VERSIONS)
    assert live["myapp__1"]["service"]["runningCount"] == 4
    task_definition = corpus.ecs.describe_task_definition(
        taskDefinition=live["myapp__1"]["service"]["taskDefinition"]
    )
    assert task_definition["taskDefinition"]["containerDefinitions"][0]["image"] == IMAGE
    corpus.autoscale("staging", "myapp__1")
    before = corpus.state("staging", *VERSIONS)

    # a release whose tasks exit: the first phase fails, the rollback restores every version
    corpus.sandbox.admin.set_images({"image": IMAGE, "exitCode": 1, "exitAfter": 1})
    failed = corpus.run("ECS_Basic_Phased")
    corpus.sandbox.admin.clear_images()
    assert failed.status == "Failed"
    assert failed.step("EcsUpgradeContainer_1").status == "Failed"
    assert failed.step("EcsBasicRollback_1").status == "Success"
    assert corpus.state("staging", *VERSIONS) == before

    # aborted while each step runs (the step is slowed by added latency on the calls it makes)
    for step, operation in (
        ("EcsServiceSetup_1", "CreateService"),
        ("EcsUpgradeContainer_1", "UpdateService"),
        ("EcsUpgradeContainer_2", "UpdateService"),
    ):
        corpus.sandbox.admin.add_fault("latency", service="ecs", operation=operation, latency_ms=300)
        execution = corpus.start("ECS_Basic_Phased")
        corpus.wait_running(execution, step)
        abort(execution, store=corpus.store)
        aborted = corpus.result(execution)
        corpus.sandbox.admin.clear_faults()
        assert aborted.status in ("Aborted", "Failed"), (step, aborted.status)
        assert aborted.step("EcsBasicRollback_1").status == "Success", step
        assert corpus.state("staging", *VERSIONS) == before, step

    # the next release: a new version takes the tasks and the autoscaling
    second = corpus.run("ECS_Basic_Phased")
    assert second.status == "Success", second.error
    after = corpus.state("staging", *VERSIONS)
    assert after["myapp__2"]["service"]["runningCount"] == 4
    assert after["myapp__1"]["service"]["desiredCount"] == 0
    assert after["myapp__2"]["scalableTargets"] == [(1, 8)] and after["myapp__2"]["scalingPolicies"] == [
        "cpu60"
    ]
    assert after["myapp__1"]["scalableTargets"] == []


def test_the_scale_sample_scales_another_service_and_a_failed_scale_restores_everything(
    corpus: Corpus,
) -> None:
    corpus.backend(desired=2)
    first = corpus.start("ecs_basic_with_scale")
    stop = threading.Event()
    approver(corpus.store, first, stop)
    try:
        done = corpus.result(first)
        assert done.status == "Success", done.error
        state = corpus.state("staging", "myapp__1")
        assert state["myapp__1"]["service"]["runningCount"] == 5  # Count overrides the desiredCount
        corpus.wait_counts(BACKEND_CLUSTER, BACKEND, 4)

        corpus.ecs.update_service(cluster=BACKEND_CLUSTER, service=BACKEND, desiredCount=2)
        corpus.wait_counts(BACKEND_CLUSTER, BACKEND, 2)
        before = corpus.state("staging", *VERSIONS) | corpus.state(BACKEND_CLUSTER, BACKEND)
        # the backend's new tasks exit: the scale fails, the stage rolls back
        corpus.sandbox.admin.set_images({"image": BACKEND_IMAGE, "exitCode": 1, "exitAfter": 1})
        failed = corpus.start("ecs_basic_with_scale")
        approver(corpus.store, failed, stop)
        result = corpus.result(failed)
    finally:
        stop.set()
        corpus.sandbox.admin.clear_images()
    assert result.status == "Failed"
    assert result.step("ScaleBackendService").status == "Failed"
    rollback = result.step("EcsBasicRollback")
    assert rollback.status == "Success" and rollback.outputs["scaledBack"] == ["ScaleBackendService"]
    corpus.wait_counts(BACKEND_CLUSTER, BACKEND, 2)
    assert corpus.state("staging", *VERSIONS) | corpus.state(BACKEND_CLUSTER, BACKEND) == before


def test_ecs_scale_runs_in_a_custom_stage_with_the_cluster_it_names(corpus: Corpus) -> None:
    corpus.backend(desired=2)

    done = corpus.run("ECS_Scale_Backend")

    assert done.status == "Success", done.error
    assert done.step("ScaleBackendService").outputs["desiredCount"] == 3  # 150 % of 2
    corpus.wait_counts(BACKEND_CLUSTER, BACKEND, 3)


CUSTOM_ROLLBACK = """
pipeline:
  name: Scale then check
  identifier: scale_then_check
  stages:
    - stage:
        name: Scale
        identifier: Scale
        type: Custom
        spec:
          execution:
            steps:
              - step:
                  type: EcsScale
                  name: Scale Backend Service
                  identifier: ScaleBackendService
                  spec: {service: my_backend_service, instanceUnit: Count, instances: 4,
                         connectorRef: account.awsEcs, region: us-east-1, cluster: my-ecs-cluster}
                  timeout: 10m
              - step:
                  type: ShellScript
                  name: check
                  identifier: check
                  spec:
                    shell: Bash
                    source: {type: Inline, spec: {script: exit 1}}
                  timeout: 1m
            rollbackSteps:
              - step:
                  type: EcsScale
                  name: Scale back
                  identifier: scale_back
                  spec: {}
                  timeout: 10m
        failureStrategies:
          - onFailure: {errors: [AllErrors], action: {type: StageRollback}}
"""


def test_an_ecs_scale_rollback_step_without_a_count_restores_what_the_stage_scaled(
    corpus: Corpus,
) -> None:
    corpus.backend(desired=2)
    # Corral's own pipeline (not a corpus file): a Custom stage whose check fails after the scale
    (corpus.root / "pipelines" / "scale_then_check.yaml").write_text(CUSTOM_ROLLBACK, encoding="utf-8")
    corpus.project = load_project(corpus.root)

    done = corpus.run("scale_then_check")

    assert done.status == "Failed"
    assert done.step("scale_back").outputs["scaledBack"] == ["ScaleBackendService"]
    corpus.wait_counts(BACKEND_CLUSTER, BACKEND, 2)
