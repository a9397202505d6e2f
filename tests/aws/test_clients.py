"""Clients made from settings: endpoints, credentials, caching, thread safety, botocore config."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from corral.aws.budget import CALLS
from corral.aws.clients import AwsSettings, Clients
from corral.sandbox import Sandbox

from .conftest import REGION, sandbox_settings

ACCOUNT = "123456789012"


def test_every_named_client_talks_to_the_sandbox_endpoint(sandbox: Sandbox, clients: Clients) -> None:
    expected = {
        "ecs": "ecs",
        "elbv2": "elbv2",
        "autoscaling": "application-autoscaling",
        "servicediscovery": "servicediscovery",
        "sts": "sts",
        "s3": "s3",
        "ec2": "ec2",
        "cloudwatch": "cloudwatch",
        "logs": "logs",
        "ecr": "ecr",
    }
    for attribute, service in expected.items():
        client = getattr(clients, attribute)
        assert client.meta.service_model.service_name == service
        assert client.meta.endpoint_url == sandbox.endpoint_url
        assert client.meta.region_name == REGION
        assert client is clients.client(service), "clients are created once and cached"


def test_account_id_is_asked_once(clients: Clients) -> None:
    before = CALLS.get("sts", "GetCallerIdentity")
    assert clients.account_id() == ACCOUNT
    assert clients.account_id() == ACCOUNT
    assert CALLS.get("sts", "GetCallerIdentity") == before + 1
    assert clients.account_key() == clients.settings.endpoint_url, "an endpoint keys budgets and pollers"


def test_botocore_retries_are_off_and_the_pool_serves_many_threads(clients: Clients) -> None:
    config = clients.ecs.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.max_pool_connections >= 50
    assert config.connect_timeout and config.read_timeout


def test_concurrent_first_use_creates_one_client(clients: Clients) -> None:
    seen: list[object] = []
    barrier = threading.Barrier(16)

    def use() -> None:
        barrier.wait()
        seen.append(clients.client("ecs"))
        clients.sts.get_caller_identity()

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16 and all(client is seen[0] for client in seen)


def test_shared_clients_are_one_per_settings(sandbox: Sandbox) -> None:
    settings = sandbox_settings(sandbox)
    assert Clients.shared(settings) is Clients.shared(sandbox_settings(sandbox))
    assert Clients.shared(settings) is not Clients.shared(sandbox_settings(sandbox, region="eu-west-1"))


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = AwsSettings(
        region=REGION, access_key_id="AKIAEXAMPLE", secret_access_key="s3cret", external_id="x-1"
    )
    assert "s3cret" not in repr(settings) and "x-1" not in repr(settings)


def _iam_user_keys(sandbox: Sandbox, user: str) -> tuple[str, str]:
    iam = sandbox.client("iam")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_explicit_keys_sign_the_requests(sandbox: Sandbox) -> None:
    key_id, secret = _iam_user_keys(sandbox, "alice")
    clients = Clients(sandbox_settings(sandbox, access_key_id=key_id, secret_access_key=secret))
    assert clients.sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"


def test_a_named_profile_supplies_the_credentials(sandbox: Sandbox, tmp_path: Path) -> None:
    key_id, secret = _iam_user_keys(sandbox, "bob")
    Path(tmp_path / "aws-credentials").write_text(
        f"[deployer]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    )
    settings = AwsSettings(region=REGION, endpoint_url=sandbox.endpoint_url, profile="deployer")
    assert Clients(settings).sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/bob"


def test_the_default_chain_reads_the_environment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    key_id, secret = _iam_user_keys(sandbox, "carol")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    settings = AwsSettings(region=REGION, endpoint_url=sandbox.endpoint_url)
    assert Clients(settings).sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/carol"


def test_assume_role_with_external_id(sandbox: Sandbox) -> None:
    settings = sandbox_settings(
        sandbox,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/deployer",
        external_id="corral-external",
        role_session_name="release-42",
    )
    clients = Clients(settings)
    identity = clients.sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/release-42"
    clients.sts.get_caller_identity()
    operations = [call["operation"] for call in sandbox.admin.calls()]
    assert operations.count("AssumeRole") == 1, "the assumed credentials are reused until they expire"


def test_aws_endpoint_url_from_the_environment_is_honoured(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
    clients = Clients(AwsSettings(region=REGION, access_key_id="testing", secret_access_key="testing"))
    assert clients.account_id() == ACCOUNT
    assert clients.account_key() == ACCOUNT, "without an endpoint setting, limits are keyed by account"
    assert [call["operation"] for call in sandbox.admin.calls()] == ["GetCallerIdentity"]


def test_importing_the_aws_layer_does_not_load_botocore() -> None:
    code = "import sys, corral.aws; print(any(m.startswith(('botocore', 'boto3')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_public_surface() -> None:
    import corral.aws

    assert set(corral.aws.__all__) == {
        "CALLS",
        "Aborted",
        "AwsSettings",
        "BudgetTimeout",
        "Clients",
        "PollPolicy",
        "RateBudget",
        "RetryPolicy",
        "ServicePoller",
        "ServiceWatch",
        "TaskPoller",
        "TaskWatch",
        "Watch",
        "call_scope",
        "describe_tasks",
        "list_service_tasks",
        "list_task_arns",
    }
