"""AWS connectors of every credential kind, used through unmodified botocore against the
sandbox's STS: the clients act as the role the connector names, and `corral connector test`
says so. The connector shapes follow Harness's AWS connector (credential.type ManualConfig,
InheritFromDelegate, Irsa, OidcAuthentication with spec.iamRoleArn, crossAccountAccess with
crossAccountRoleArn and externalId), as terraform-provider-harness's AWS connector resource
and the harness-go-sdk AwsCredential model write them."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, CredentialRetrievalError

from corral.aws.clients import Clients
from corral.config.connections import aws_settings
from corral.config.project import load_project
from corral.config.secrets import SecretResolver
from corral.errors import ConfigError
from corral.sandbox import Sandbox
from tests.aws.sts_helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    cross_account_role,
    role_name,
    user_keys,
    web_identity_role,
    write_token,
)

from .helpers import corral, write_project

CROSS_ACCOUNT = """
      crossAccountAccess:
        crossAccountRoleArn: {role}
        externalId: {external_id}"""


def _connector(sandbox: Sandbox, credential: str, cross: str = "") -> str:
    return f"""connector:
  name: Deploy
  identifier: deploy
  type: Aws
  spec:
    credential:
{credential}
      region: us-east-1{cross}
    endpointUrl: {sandbox.endpoint_url}
    executeOnDelegate: true
"""


IRSA = "      type: Irsa\n      spec: null"
INHERIT = "      type: InheritFromDelegate\n      spec: null"


def _oidc(role: str, source: str) -> str:
    return f"      type: OidcAuthentication\n      spec:\n        iamRoleArn: {role}\n        {source}"


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _identity(project_dir: Path) -> str:
    project = load_project(project_dir)
    connector = project.connector("deploy")
    settings = aws_settings(connector, SecretResolver(project)).for_clients()  # type: ignore[arg-type]
    return str(Clients(settings).sts.get_caller_identity()["Arn"])


def _connector_test(project_dir: Path) -> str:
    result = corral("connector", "test", "deploy", "--project", str(project_dir))
    assert result.exit_code == 0, result.output
    return result.output


def test_irsa_is_the_pods_web_identity(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = web_identity_role(sandbox)
    monkeypatch.setenv("AWS_ROLE_ARN", role)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(write_token(tmp_path / "token")))
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, IRSA)})
    expected = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role)}/corral"
    assert _identity(tmp_path) == expected
    assert f"account: {ACCOUNT} ({expected})" in _connector_test(tmp_path)


def test_irsa_without_a_web_identity_names_the_connector(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ROLE_ARN", f"arn:aws:iam::{ACCOUNT}:role/irsa-deployer")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, IRSA)})
    result = corral("connector", "test", "deploy", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "aws.yaml:7: connector.spec.credential.type: Irsa uses the web identity" in result.output
    assert "AWS_WEB_IDENTITY_TOKEN_FILE is not set" in result.output
    assert "Traceback" not in result.output


def test_oidc_token_from_a_file(sandbox: Sandbox, tmp_path: Path) -> None:
    role = web_identity_role(sandbox, "oidc-deployer")
    write_token(tmp_path / "oidc.jwt")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, _oidc(role, "webIdentityTokenFile: oidc.jwt"))})
    expected = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role)}/corral"
    assert _identity(tmp_path) == expected
    assert expected in _connector_test(tmp_path)


def test_oidc_token_from_an_environment_variable(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = web_identity_role(sandbox, "oidc-deployer")
    monkeypatch.setenv("CI_OIDC_TOKEN", write_token(tmp_path / "t").read_text().strip())
    write_project(
        tmp_path, {"aws.yaml": _connector(sandbox, _oidc(role, "webIdentityTokenEnv: CI_OIDC_TOKEN"))}
    )
    expected = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role)}/corral"
    assert _identity(tmp_path) == expected
    assert expected in _connector_test(tmp_path)
    monkeypatch.delenv("CI_OIDC_TOKEN")
    result = corral("connector", "test", "deploy", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert (
        "aws.yaml:10: connector.spec.credential.spec.webIdentityTokenEnv: environment variable CI_OIDC_TOKEN is not set"
        in result.output
    )


def test_oidc_token_the_role_does_not_trust_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    role = web_identity_role(sandbox, "oidc-deployer", sub="system:serviceaccount:deploy:someone-else")
    write_token(tmp_path / "oidc.jwt")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, _oidc(role, "webIdentityTokenFile: oidc.jwt"))})
    result = corral("connector", "test", "deploy", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "AccessDenied" in result.output and "sts:AssumeRoleWithWebIdentity" in result.output


def test_oidc_as_harness_exports_it_says_what_corral_needs(sandbox: Sandbox, tmp_path: Path) -> None:
    """Harness mints the token itself, so its YAML names only the role: it loads, and using it
    says which field to add."""
    connector = _connector(
        sandbox,
        f"      type: OidcAuthentication\n      spec:\n        iamRoleArn: arn:aws:iam::{ACCOUNT}:role/x",
    )
    write_project(tmp_path, {"aws.yaml": connector})
    assert corral("validate", "--project", str(tmp_path)).exit_code == 0
    with pytest.raises(ConfigError) as caught:
        _identity(tmp_path)
    assert str(caught.value).startswith(
        "aws.yaml:9: connector.spec.credential.spec.iamRoleArn: OidcAuthentication needs an OIDC token"
    )
    assert "webIdentityTokenFile" in str(caught.value) and "webIdentityTokenEnv" in str(caught.value)


def test_cross_account_access_on_static_keys(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = cross_account_role(sandbox)
    key_id, secret = user_keys(sandbox)
    monkeypatch.setenv("DEPLOY_KEY_ID", key_id)
    monkeypatch.setenv("DEPLOY_SECRET", secret)
    manual = "      type: ManualConfig\n      spec:\n        accessKeyRef: key_id\n        secretKeyRef: secret_key"
    secrets = (
        "---\nsecret: {name: k, identifier: key_id, type: SecretText, spec: {value: DEPLOY_KEY_ID}}\n"
        "---\nsecret: {name: s, identifier: secret_key, type: SecretText, spec: {value: DEPLOY_SECRET}}\n"
    )
    cross = CROSS_ACCOUNT.format(role=role, external_id="corral-42")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, manual, cross) + secrets})
    expected = f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/{role_name(role)}/corral"
    assert _identity(tmp_path) == expected
    assert f"account: {OTHER_ACCOUNT} ({expected})" in _connector_test(tmp_path)

    wrong = CROSS_ACCOUNT.format(role=role, external_id="not-the-one")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, manual, wrong) + secrets})
    result = corral("connector", "test", "deploy", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "AccessDenied" in result.output and "sts:AssumeRole on resource" in result.output
    assert "not-the-one" not in result.output, "the external id is not echoed"
    with pytest.raises(CredentialRetrievalError) as caught:  # as a deployment step meets it
        _identity(tmp_path)
    assert f"aws.yaml:1: connector 'deploy': AssumeRole of {role} failed: " in str(caught.value)
    assert "(AccessDenied)" in str(caught.value)


def test_cross_account_access_on_a_web_identity(sandbox: Sandbox, tmp_path: Path) -> None:
    """The role a web identity gives is the base credential that assumes the cross-account role."""
    web_role = web_identity_role(sandbox, "oidc-deployer")
    role = cross_account_role(sandbox)  # trusts the whole account the web identity role is in
    write_token(tmp_path / "oidc.jwt")
    cross = CROSS_ACCOUNT.format(role=role, external_id="corral-42")
    credential = _oidc(web_role, "webIdentityTokenFile: oidc.jwt")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, credential, cross)})
    assert _identity(tmp_path) == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/{role_name(role)}/corral"
    operations = [call["operation"] for call in sandbox.admin.calls()]
    assert operations.index("AssumeRoleWithWebIdentity") < operations.index("AssumeRole")


def test_cross_account_access_inheriting_from_the_delegate(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = cross_account_role(sandbox)
    key_id, secret = user_keys(sandbox)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    cross = CROSS_ACCOUNT.format(role=role, external_id="corral-42")
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, INHERIT, cross)})
    assert f"assumed-role/{role_name(role)}/corral" in _connector_test(tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "manager"),
    [("webIdentityTokenEnv", "CORRAL_SECRETS_KEY", "env"), ("webIdentityTokenFile", "/etc/hostname", "file")],
)
def test_a_server_refuses_oidc_tokens_from_its_own_environment_and_files(
    tmp_path: Path, field: str, value: str, manager: str
) -> None:
    """The token goes to the connector's endpoint: from a server's environment or files it could
    carry the server's own secrets away, so it is refused like the env and file secret managers."""
    from tests.security.scope_helpers import server_with

    connector = f"""connector:
  name: OIDC
  identifier: oidc
  type: Aws
  spec:
    credential:
      type: OidcAuthentication
      spec:
        iamRoleArn: arn:aws:iam::{ACCOUNT}:role/deployer
        {field}: {value}
      region: us-east-1
    endpointUrl: http://127.0.0.1:9
"""
    with server_with(tmp_path / "server") as live:
        admin = live.client()
        admin.post("/projects", {"name": "shop"}, 201)
        answer = admin.put("/projects/shop/entities", {"yaml": connector}, 422).json()
        [problem] = answer["problems"]
        assert problem["path"] == f"connector.spec.credential.spec.{field}"
        assert f"corral server --allow-secret-manager {manager}" in problem["message"]


TEMPORARY = (
    "      type: ManualConfig\n      spec:\n        accessKeyRef: key_id\n        secretKeyRef: secret_key\n"
    "        sessionTokenRef: session_token"
)
TEMPORARY_SECRETS = "".join(
    f"---\nsecret: {{name: {name}, identifier: {name}, type: SecretText, spec: {{value: {variable}}}}}\n"
    for name, variable in (
        ("key_id", "DEPLOY_KEY_ID"),
        ("secret_key", "DEPLOY_SECRET"),
        ("session_token", "DEPLOY_TOKEN"),
    )
)


def test_temporary_keys_with_their_session_token(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ManualConfig with sessionTokenRef (harnesscd-example-apps' aws-connector.yml): the keys
    AssumeRole gave act as the role, and every request carries the session token, as AWS requires
    of temporary credentials (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html)."""
    role = f"arn:aws:iam::{ACCOUNT}:role/ci-temporary-keys"  # not in IAM: anyone may assume it
    given = sandbox.client("sts").assume_role(RoleArn=role, RoleSessionName="ci")["Credentials"]
    monkeypatch.setenv("DEPLOY_KEY_ID", given["AccessKeyId"])
    monkeypatch.setenv("DEPLOY_SECRET", given["SecretAccessKey"])
    monkeypatch.setenv("DEPLOY_TOKEN", given["SessionToken"])
    write_project(tmp_path, {"aws.yaml": _connector(sandbox, TEMPORARY) + TEMPORARY_SECRETS})
    assert _identity(tmp_path) == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role)}/ci"

    with _HeaderCapture() as capture:  # what goes on the wire: the token in X-Amz-Security-Token
        connector = _connector(sandbox, TEMPORARY).replace(sandbox.endpoint_url, capture.url)
        write_project(tmp_path, {"aws.yaml": connector + TEMPORARY_SECRETS})
        with pytest.raises(ClientError):  # the capture refuses
            _identity(tmp_path)
    assert capture.headers and capture.headers[0].get("X-Amz-Security-Token") == given["SessionToken"]
    assert given["AccessKeyId"] in capture.headers[0].get("Authorization", "")


# an STS (query protocol) error response
REFUSAL = (
    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>captured</Message>"
    "</Error><RequestId>1</RequestId></ErrorResponse>"
)


class _HeaderCapture:
    """A loopback HTTP listener that keeps each request's headers and refuses the request."""

    def __init__(self) -> None:
        import http.server
        import threading

        headers: list[dict[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers.append(dict(self.headers.items()))
                body = REFUSAL.encode()
                self.send_response(403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.headers = headers
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _HeaderCapture:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
