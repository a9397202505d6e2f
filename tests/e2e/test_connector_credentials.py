"""A rolling deployment whose AWS connector is the pod's web identity (Irsa) with cross-account
access on top: every ECS call of the run is made with the assumed role's credentials, which the
sandbox's STS gave only because the role's trust policy allowed the token and the external id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corral.config import load_project
from tests.aws.sts_helpers import cross_account_role, web_identity_role, write_token

from .conftest import DEMO, Demo

IRSA_CONNECTOR = """connector:
  name: Sandbox
  identifier: sandbox_aws
  type: Aws
  spec:
    credential:
      type: Irsa
      spec: null
      region: us-east-1
      crossAccountAccess:
        crossAccountRoleArn: {role}
        externalId: corral-42
"""


def test_a_rolling_deploy_through_irsa_and_cross_account_access(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_dir = tmp_path / "project"
    shutil.copytree(DEMO, project_dir)
    aws = project_dir / "connectors" / "aws.yaml"
    registry = aws.read_text().split("---\n", 1)[1]
    role = cross_account_role(demo.sandbox)
    aws.write_text(IRSA_CONNECTOR.format(role=role) + "---\n" + registry)
    monkeypatch.setenv("AWS_ROLE_ARN", web_identity_role(demo.sandbox))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(write_token(tmp_path / "token")))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)  # nothing but the web identity to start from
    demo.project = load_project(project_dir)

    setup = len(demo.sandbox.admin.calls())  # the demo's own set-up calls
    execution = demo.run("demo_rolling", tag="1")
    assert execution.status == "Success", execution.error
    calls = demo.sandbox.admin.calls()[setup:]
    operations = [call["operation"] for call in calls]
    assert "AssumeRoleWithWebIdentity" in operations and "AssumeRole" in operations
    assert operations.index("AssumeRoleWithWebIdentity") < operations.index("AssumeRole")
    first_ecs = min(i for i, call in enumerate(calls) if call["service"] == "ecs")
    assert operations.index("AssumeRole") < first_ecs, "ECS is called only with the assumed role"
