"""The project commands as a user runs them: exit codes, output, no tracebacks."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from dulwich import porcelain
from dulwich.repo import Repo

from .helpers import EXAMPLES, corral, write_project


def test_command_modules_import_neither_boto3_nor_pydantic() -> None:
    code = (
        "import sys, corral.cli.main, corral.cli.validate_cmd, corral.cli.render_cmd, corral.cli.ls_cmd,"
        " corral.cli.connector_cmd, corral.cli.secret_cmd;"
        " print(sorted(m for m in ('boto3', 'botocore', 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_commands_are_listed() -> None:
    result = corral("--help")
    for name in ("validate", "render", "ls", "connector", "secret"):
        assert f"  {name} " in result.output


def test_validate_exit_codes(tmp_path: Path) -> None:
    write_project(tmp_path)
    ok = corral("validate", "--project", str(tmp_path))
    assert ok.exit_code == 0 and ok.output.startswith("ok: test: ")
    (tmp_path / "broken.yaml").write_text("environment:\n  name: QA\n  identifier: qa\n  type: Staging\n")
    bad = corral("validate", "--project", str(tmp_path))
    assert bad.exit_code == 1
    assert (
        "broken.yaml:4: environment.type: expected one of Production, PreProduction, got 'Staging'\n"
        in bad.output
    )
    missing = corral("validate", "--project", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no such folder" in missing.output


def test_validate_outside_a_project_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = corral("validate")
    assert result.exit_code == 2
    assert "no corral.yaml in" in result.output


def test_render_usage_errors(tmp_path: Path) -> None:
    write_project(tmp_path)
    unknown = corral(
        "render", "--project", str(tmp_path), "--service", "api", "--env", "dev", "--infra", "fargate"
    )
    assert unknown.exit_code == 2
    assert "--service: api: service 'api' not found; the project has web" in unknown.output
    malformed = corral(
        "render",
        "--project",
        str(tmp_path),
        "--service",
        "web",
        "--env",
        "dev",
        "--infra",
        "fargate",
        "--set",
        "oops",
    )
    assert malformed.exit_code == 2 and "expected PATH=VALUE" in malformed.output
    assert corral("render", "--project", str(tmp_path)).exit_code == 2  # --service is required


def test_render_with_inputs_and_sets(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = (tmp_path / "service.yaml").read_text().replace('tag: "1.25"', "tag: <+input>")
    (tmp_path / "service.yaml").write_text(text)
    args = ["render", "--project", str(tmp_path), "--service", "web", "--env", "dev", "--infra", "fargate"]
    missing = corral(*args)
    assert missing.exit_code == 1 and "missing required input" in missing.output
    result = corral(*args, "--input", "tag=1.10", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["image"] == "registry.hub.docker.com/library/nginx:1.10"


def test_render_a_broken_project(tmp_path: Path) -> None:
    write_project(tmp_path, {"x.yaml": "service: [\n"})
    result = corral(
        "render", "--project", str(tmp_path), "--service", "web", "--env", "dev", "--infra", "fargate"
    )
    assert result.exit_code == 1 and "x.yaml:2: malformed YAML" in result.output


def test_ls(tmp_path: Path) -> None:
    write_project(tmp_path)
    everything = corral("ls", "--project", str(tmp_path))
    assert everything.exit_code == 0
    lines = everything.output.splitlines()
    assert lines[0].split() == ["KIND", "IDENTIFIER", "NAME", "DETAIL", "FILE"]
    assert any(
        line.split()[:3] == ["service", "web", "Web"] and line.endswith("service.yaml:1") for line in lines
    )
    infra = corral("ls", "infra", "--project", str(tmp_path), "--format", "json")
    assert json.loads(infra.output) == [
        {
            "kind": "infrastructureDefinition",
            "identifier": "fargate",
            "name": "Fargate",
            "detail": "env=dev cluster=dev-cluster region=us-east-1",
            "file": "environment.yaml:6",
        }
    ]
    assert corral("ls", "gizmos", "--project", str(tmp_path)).exit_code == 2


def test_ls_examples_pipelines() -> None:
    result = corral("ls", "pipelines", "--project", str(EXAMPLES / "ecs-tutorial"))
    assert result.exit_code == 0
    assert {line.split()[1] for line in result.output.splitlines()[1:]} == {
        "ecs_tutorial_bluegreen",
        "ecs_tutorial_canary",
        "ecs_tutorial_rolling",
        "ecs_tutorial_runtask",
    }


# -- connector test ---------------------------------------------------------------------------

AWS = """connector:
  name: Sandbox
  identifier: sandbox
  type: Aws
  spec:
    credential:
      type: ManualConfig
      spec:
        accessKeyRef: sandbox_key
        secretKeyRef: sandbox_secret
      region: us-east-1
    endpointUrl: {endpoint}
---
secret: {{name: k, identifier: sandbox_key, type: SecretText, spec: {{value: CORRAL_TEST_KEY}}}}
---
secret: {{name: s, identifier: sandbox_secret, type: SecretText, spec: {{secretManagerIdentifier: file, value: secret.txt}}}}
"""


def test_connector_test_aws(tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.client("ecs").create_cluster(clusterName="ecs-tutorial")
    monkeypatch.setenv("CORRAL_TEST_KEY", "test")
    write_project(tmp_path, {"aws.yaml": AWS.format(endpoint=sandbox.endpoint_url), "secret.txt": "test\n"})
    result = corral("connector", "test", "sandbox", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"endpoint: {sandbox.endpoint_url}" in result.output
    assert "account: " in result.output
    assert "clusters (1): ecs-tutorial" in result.output
    assert result.output.endswith("connector sandbox: ok\n")


def test_connector_test_aws_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRAL_TEST_KEY", "test")
    write_project(tmp_path, {"aws.yaml": AWS.format(endpoint="http://127.0.0.1:9"), "secret.txt": "test\n"})
    result = corral("connector", "test", "sandbox", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "connector test failed: http://127.0.0.1:9:" in result.output
    assert "Traceback" not in result.output


def test_connector_test_missing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORRAL_TEST_KEY", raising=False)
    write_project(tmp_path, {"aws.yaml": AWS.format(endpoint="http://127.0.0.1:9"), "secret.txt": "test\n"})
    result = corral("connector", "test", "sandbox", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "aws.yaml:14: secret.spec.value: environment variable CORRAL_TEST_KEY is not set" in result.output


def test_connector_test_unknown(tmp_path: Path) -> None:
    write_project(tmp_path)
    result = corral("connector", "test", "nope", "--project", str(tmp_path))
    assert (
        result.exit_code == 2
        and "connector 'nope' not found; the project has aws, docker_hub" in result.output
    )


class _Registry(BaseHTTPRequestHandler):
    """/v2/ behind bearer tokens from /token, which wants basic auth user:pass."""

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        expected_basic = "Basic " + base64.b64encode(b"user:pass").decode()
        if self.path.startswith("/token"):
            if self.headers.get("Authorization") != expected_basic:
                self._send(401, b"{}")
                return
            self._send(200, json.dumps({"token": "tok"}).encode())
            return
        if self.headers.get("Authorization") == "Bearer tok":
            self._send(200, b"{}")
            return
        realm = f'Bearer realm="http://127.0.0.1:{port}/token",service="registry"'
        self._send(401, b"{}", {"Www-Authenticate": realm})

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


REGISTRY = """connector:
  name: Registry
  identifier: registry
  type: DockerRegistry
  spec:
    dockerRegistryUrl: {url}/v2/
    auth:
{auth}
---
secret: {{name: p, identifier: registry_password, type: SecretText, spec: {{value: CORRAL_TEST_REGISTRY_PASSWORD}}}}
"""
WITH_PASSWORD = "      type: UsernamePassword\n      spec:\n        username: user\n        passwordRef: registry_password"


def test_connector_test_docker_registry(
    tmp_path: Path, registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRAL_TEST_REGISTRY_PASSWORD", "pass")
    write_project(tmp_path, {"registry.yaml": REGISTRY.format(url=registry, auth=WITH_PASSWORD)})
    result = corral("connector", "test", "registry", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"registry: {registry}/v2/ answered 200 as user" in result.output


def test_connector_test_docker_registry_refuses(
    tmp_path: Path, registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRAL_TEST_REGISTRY_PASSWORD", "wrong")
    write_project(tmp_path, {"registry.yaml": REGISTRY.format(url=registry, auth=WITH_PASSWORD)})
    refused = corral("connector", "test", "registry", "--project", str(tmp_path))
    assert refused.exit_code == 1 and "token service refused the credentials" in refused.output
    write_project(tmp_path, {"registry.yaml": REGISTRY.format(url=registry, auth="      type: Anonymous")})
    anonymous = corral("connector", "test", "registry", "--project", str(tmp_path))
    assert anonymous.exit_code == 1 and "token service refused" in anonymous.output


def test_connector_test_git(tmp_path: Path) -> None:
    repo = Repo.init(str(tmp_path / "repo"), mkdir=True)
    (tmp_path / "repo" / "README").write_text("hi\n")
    porcelain.add(repo, [str(tmp_path / "repo" / "README")])
    porcelain.commit(repo, message=b"first", author=b"t <t@example.com>", committer=b"t <t@example.com>")
    porcelain.tag_create(repo, b"v1", message=b"v1", annotated=True, author=b"t <t@example.com>")
    git = "connector:\n  name: Repo\n  identifier: repo\n  type: Git\n  spec:\n    url: ./repo\n    type: Http\n"
    write_project(tmp_path, {"git.yaml": git})
    result = corral("connector", "test", "repo", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "branches (1): " in result.output and "tags: 1" in result.output
    # a URL goes through dulwich's transport (ls-remote) instead of opening the folder
    (tmp_path / "git.yaml").write_text(git.replace("./repo", f"file://{tmp_path / 'repo'}"))
    remote = corral("connector", "test", "repo", "--project", str(tmp_path))
    assert remote.exit_code == 0, remote.output
    assert "branches (1): " in remote.output and "tags: 1" in remote.output
    (tmp_path / "git.yaml").write_text(git.replace("./repo", "./missing"))
    missing = corral("connector", "test", "repo", "--project", str(tmp_path))
    assert missing.exit_code == 1 and "not a git repository" in missing.output


# -- secrets ------------------------------------------------------------------------------------


def test_encrypted_secret_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORRAL_SECRETS_KEY", raising=False)
    write_project(tmp_path)
    encrypted = corral("secret", "encrypt", "--project", str(tmp_path), input="hunter2\n")
    assert encrypted.exit_code == 0, encrypted.output
    token = encrypted.output.strip()
    assert token.startswith("gAAAA") and "hunter2" not in token
    key_file = tmp_path / ".corral" / "secrets.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret = f"secret:\n  name: DB\n  identifier: db\n  type: SecretText\n  spec:\n    secretManagerIdentifier: corral\n    value: {token}\n"
    (tmp_path / "secret.yaml").write_text(secret)
    from corral.config import SecretResolver, load_project

    project = load_project(tmp_path)
    assert SecretResolver(project).value("db") == "hunter2"
    # the key may come from the environment instead of the file
    monkeypatch.setenv("CORRAL_SECRETS_KEY", key_file.read_text().strip())
    key_file.unlink()
    assert SecretResolver(load_project(tmp_path)).value("db") == "hunter2"


def test_encrypted_secret_with_another_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    from corral.config import SecretResolver, load_project
    from corral.errors import ConfigError

    token = Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    monkeypatch.setenv("CORRAL_SECRETS_KEY", Fernet.generate_key().decode())
    secret = f"secret:\n  name: DB\n  identifier: db\n  type: SecretText\n  spec:\n    secretManagerIdentifier: corral\n    value: {token}\n"
    write_project(tmp_path, {"secret.yaml": secret})
    with pytest.raises(ConfigError) as caught:
        SecretResolver(load_project(tmp_path)).value("db")
    assert str(caught.value) == (
        "secret.yaml:7: secret.spec.value: cannot decrypt: the value was not encrypted with this project's key"
    )
