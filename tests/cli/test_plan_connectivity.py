"""`corral plan` shows Service Connect, VPC Lattice and scheduled action changes (issue 15): a
service whose only change is one of them is not "no changes"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from corral.sandbox import Sandbox

from .helpers import corral

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
SERVICE_CONNECT = {
    "enabled": True,
    "namespace": "corral-demo",
    "services": [{"portName": "http", "discoveryName": "web", "clientAliases": [{"port": 80}]}],
}


def test_plan_shows_service_connect_and_scheduled_actions(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project)
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    deployed = corral(
        "run", "demo_rolling", "--project", str(project), *store, *aws, "--input", "tag=1", "--json"
    )
    assert json.loads(deployed.output)["status"] == "Success", deployed.output
    same = corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1")
    assert "no changes" in same.output, same.output

    files = project / "files" / "account" / "web"
    definition = yaml.safe_load((files / "CreateServiceRequest.yaml").read_text())
    definition["serviceConnectConfiguration"] = SERVICE_CONNECT
    (files / "CreateServiceRequest.yaml").write_text(yaml.safe_dump(definition))
    planned = corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1")
    assert planned.exit_code == 0, planned.output
    assert "no changes" not in planned.output
    assert "+serviceConnectConfiguration:" in planned.output.splitlines()

    # deployed, it is live (read from the PRIMARY deployment): no changes again
    again = corral(
        "run", "demo_rolling", "--project", str(project), *store, *aws, "--input", "tag=1", "--json"
    )
    assert json.loads(again.output)["status"] == "Success", again.output
    assert (
        "no changes"
        in corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1").output
    )

    # left out of the manifest, the deploy would turn it off: the plan says so
    del definition["serviceConnectConfiguration"]
    (files / "CreateServiceRequest.yaml").write_text(yaml.safe_dump(definition))
    off = corral(
        "plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1"
    ).output.splitlines()
    assert "+  enabled: false" in off and "-  enabled: true" in off

    # a scheduled action (with its scalable target) shows under auto scaling
    (files / "ScalableTarget.yaml").write_text(yaml.safe_dump({"minCapacity": 1, "maxCapacity": 4}))
    (files / "Scheduled.yaml").write_text(
        yaml.safe_dump(
            {
                "scheduledActionName": "night",
                "schedule": "cron(0 22 ? * MON-FRI *)",
                "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 1},
            }
        )
    )
    service_file = project / "services" / "web.yaml"
    service = yaml.safe_load(service_file.read_text())
    manifests = service["service"]["serviceDefinition"]["spec"]["manifests"]
    for identifier, kind, name in (
        ("target", "EcsScalableTargetDefinition", "ScalableTarget.yaml"),
        ("night", "EcsScheduledActionDefinition", "Scheduled.yaml"),
    ):
        store_spec = {"type": "Harness", "spec": {"files": [f"account:/web/{name}"]}}
        manifests.append(
            {"manifest": {"identifier": identifier, "type": kind, "spec": {"store": store_spec}}}
        )
    service_file.write_text(yaml.safe_dump(service))
    scheduled = corral("plan", "demo_rolling", "--project", str(project), *aws, "--input", "tag=1").output
    assert "+scheduled actions:" in scheduled.splitlines(), scheduled
    assert "+  Schedule: cron(0 22 ? * MON-FRI *)" in scheduled.splitlines()
