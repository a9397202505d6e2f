"""Secrets are scoped (issue 12, item 2): each project's values are encrypted with its own data
key; `file` and `env` secret managers, which read the server's own files and environment, are
refused on a server unless its operator allows them; a run reads only the secrets its pipeline
and its targets name."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet, InvalidToken

from corral.config.project import load_project
from corral.config.secrets import SecretResolver, encrypt, unwrap_data_key
from corral.delegate.temporal_runner import TemporalRunner
from corral.engine import create_execution
from corral.store import Store
from tests.cli.helpers import corral
from tests.delegate.conftest import StartDelegate, delegates, runner, store, temporal  # noqa: F401  (fixtures)
from tests.engine.helpers import pipeline, shell, stage, write_project
from tests.server.helpers import Live
from tests.server.helpers import shell as server_shell

from .scope_helpers import S1, assert_hidden, everything_said, make_shop, pipeline_doc, server_with, uses_s1

S2 = "Quince-s2-other-value"
ALLOW_MESSAGE = "is refused on this server: it reads the server's own"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with server_with(tmp_path / "server") as live:
        yield live


def _token(live: Live, project: str, identifier: str) -> str:
    path = live.server.settings.projects / project / "secrets" / f"{identifier}.yaml"
    return str(yaml.safe_load(path.read_text())["secret"]["spec"]["value"])


def _data_key(live: Live, project: str) -> bytes:
    master = live.server.settings.secrets_key_file.read_bytes().strip()
    path = live.server.projects.data_key_file(project)
    return unwrap_data_key(master, path.read_bytes(), source=str(path))


def test_a_project_data_key_opens_no_other_project_secret(live: Live) -> None:
    admin = live.client()
    for name, value in (("alpha", S1), ("beta", S2)):
        admin.post("/projects", {"name": name}, 201)
        admin.put(f"/projects/{name}/secrets/token", {"value": value}, 200)
    alpha, beta = _data_key(live, "alpha"), _data_key(live, "beta")
    assert alpha != beta
    assert Fernet(alpha).decrypt(_token(live, "alpha", "token").encode()).decode() == S1
    assert Fernet(beta).decrypt(_token(live, "beta", "token").encode()).decode() == S2
    with pytest.raises(InvalidToken):
        Fernet(alpha).decrypt(_token(live, "beta", "token").encode())
    with pytest.raises(InvalidToken):  # nor does the server's key itself: it only wraps data keys
        master = live.server.settings.secrets_key_file.read_bytes().strip()
        Fernet(master).decrypt(_token(live, "alpha", "token").encode())
    for name in ("alpha", "beta"):
        key_file = live.server.projects.data_key_file(name)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert live.server.settings.projects not in key_file.parents  # not in the project's files
    assert SecretResolver(load_project(live.server.settings.projects / "beta")).value("token") == S2
    admin.call("DELETE", "/projects/beta", 204)
    assert not live.server.projects.data_key_file("beta").exists()  # made again, it gets a new key
    state = "\n".join(
        p.read_bytes().decode("latin-1")
        for p in [*live.server.settings.data_dir.rglob("*")]
        if p.is_file() and "project-keys" not in p.parts
    )
    assert_hidden(state, S1)
    assert_hidden(state, S2)


def test_values_encrypted_with_the_single_server_key_are_encrypted_again_on_open(tmp_path: Path) -> None:
    data = tmp_path / "server"
    with server_with(data) as live:
        make_shop(live.client(), _printing_pipeline())
        master = live.server.settings.secrets_key_file.read_bytes().strip()
        folder = live.server.settings.projects / "shop"
    # as an older server left it: one key for every project, no data key
    old = Fernet(master).encrypt(S1.encode()).decode()
    secret_file = folder / "secrets" / "s1.yaml"
    document = yaml.safe_load(secret_file.read_text())
    document["secret"]["spec"]["value"] = old
    secret_file.write_text(yaml.safe_dump(document))
    settings = yaml.safe_load((folder / "corral.yaml").read_text())
    settings["project"]["secrets"] = {"keyFile": settings["project"]["secrets"]["keyFile"]}
    (folder / "corral.yaml").write_text(yaml.safe_dump(settings))
    (data / ".corral" / "project-keys" / "shop.key").unlink()
    with server_with(data) as live:
        token = _token(live, "shop", "s1")
        assert token != old
        assert Fernet(_data_key(live, "shop")).decrypt(token.encode()).decode() == S1
        api = live.client()
        execution_id = api.post("/projects/shop/pipelines/show/executions", {}, 202).json()["id"]
        assert api.wait(execution_id)["status"] == "Success"
        messages = [line["message"] for line in api.get(f"/executions/{execution_id}/logs")]
        assert f"sha={hashlib.sha256(S1.encode()).hexdigest()}" in messages


def _printing_pipeline(expression: str = '<+secrets.getValue("s1")>') -> dict[str, object]:
    step = server_shell(
        "show",
        'echo "sha=$(printf %s "$V" | sha256sum | cut -c1-64)"',
        environmentVariables=[{"name": "V", "type": "Secret", "value": expression}],
    )
    return pipeline_doc("show", [step], [])


def _secret(identifier: str, manager: str, value: str) -> str:
    spec = {"secretManagerIdentifier": manager, "valueType": "Reference", "value": value}
    body = {"identifier": identifier, "name": identifier, "type": "SecretText", "spec": spec}
    return yaml.safe_dump({"secret": body})


@pytest.mark.parametrize(
    ("manager", "value"), [("file", "../../.corral/secrets.key"), ("env", "CORRAL_SECRETS_KEY")]
)
def test_file_and_env_managers_are_refused_on_a_server(live: Live, manager: str, value: str) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "shop"}, 201)
    owner = admin.user("pat", project="shop", role="admin")
    answer = owner.put("/projects/shop/entities", {"yaml": _secret("stolen", manager, value)}, 422).json()
    [problem] = answer["problems"]
    assert problem["path"] == "secret.spec.secretManagerIdentifier"
    assert f"secret manager '{manager}' {ALLOW_MESSAGE}" in problem["message"]
    assert f"corral server --allow-secret-manager {manager}" in problem["message"]
    assert [e["identifier"] for e in owner.get("/projects/shop/entities")] == []


def test_an_allowed_manager_works_and_a_refused_one_already_on_disk_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCOPE_TEST_S1", S1)
    data = tmp_path / "server"
    with server_with(data, allow_secret_managers=("env",)) as live:
        api = live.client()
        api.post("/projects", {"name": "shop"}, 201)
        documents = _secret("s1", "env", "SCOPE_TEST_S1") + "---\n" + yaml.safe_dump(_printing_pipeline())
        api.put("/projects/shop/entities", {"yaml": documents}, 200)
        api.put("/projects/shop/entities", {"yaml": _secret("f", "file", "/etc/hostname")}, 422)
        execution_id = api.post("/projects/shop/pipelines/show/executions", {}, 202).json()["id"]
        assert api.wait(execution_id)["status"] == "Success"
        messages = [line["message"] for line in api.get(f"/executions/{execution_id}/logs")]
        assert f"sha={hashlib.sha256(S1.encode()).hexdigest()}" in messages
    with server_with(data) as live:  # the operator took the permission back
        api = live.client()
        answer = api.post("/projects/shop/pipelines/show/executions", {}, 422).json()
        assert [p["path"] for p in answer["problems"]] == ["secret.spec.secretManagerIdentifier"]
        assert "--allow-secret-manager env" in answer["problems"][0]["message"]
        assert len(api.get("/executions")) == 1  # only the first run
        # the project can still be mended; the refused secret cannot be uploaded again
        api.put(
            "/projects/shop/entities",
            {"yaml": yaml.safe_dump(pipeline_doc("other", [server_shell("hi", "echo hi")], []))},
            200,
        )
        api.put("/projects/shop/entities", {"yaml": _secret("s1", "env", "SCOPE_TEST_OTHER")}, 422)


def test_a_step_cannot_read_a_secret_its_pipeline_does_not_reference(live: Live) -> None:
    admin = live.client()
    make_shop(admin, _printing_pipeline('<+secrets.getValue("s" + "2")>'))
    admin.put("/projects/shop/secrets/s2", {"value": S2}, 200)
    execution_id = admin.post("/projects/shop/pipelines/show/executions", {}, 202).json()["id"]
    execution = admin.wait(execution_id)
    assert execution["status"] == "Failed"
    [step] = execution["steps"]
    assert "secret 's2' is not referenced by this pipeline" in step["error"], step
    said = everything_said(admin, live, execution_id)
    assert hashlib.sha256(S2.encode()).hexdigest() not in said
    assert_hidden(said, S2)


def test_a_step_reads_the_secrets_its_pipeline_names(live: Live) -> None:
    admin = live.client()
    make_shop(admin, pipeline_doc("show", [uses_s1()], []))
    admin.put("/projects/shop/secrets/s2", {"value": S2}, 200)
    execution_id = admin.post("/projects/shop/pipelines/show/executions", {}, 202).json()["id"]
    assert admin.wait(execution_id)["status"] == "Success"
    messages = [line["message"] for line in admin.get(f"/executions/{execution_id}/logs")]
    assert f"token has {len(S1)} characters" in messages


def test_the_cli_keeps_file_and_env_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One user on their own machine: `corral run` reads env and file secrets as before."""
    monkeypatch.setenv("SCOPE_TEST_S1", S1)
    (tmp_path / "s2.txt").write_text(S2 + "\n")
    script = 'echo "a=${#A} b=${#B}"'
    variables = [
        {"name": "A", "type": "Secret", "value": '<+secrets.getValue("s1")>'},
        {"name": "B", "type": "Secret", "value": '<+secrets.getValue("s2")>'},
    ]
    write_project(
        tmp_path,
        [pipeline("both", [stage("s", [shell("say", script, spec={"environmentVariables": variables})])])],
        extra={
            "secrets.yaml": _secret("s1", "env", "SCOPE_TEST_S1") + "---\n" + _secret("s2", "file", "s2.txt")
        },
    )
    result = corral("run", "both", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert f"a={len(S1)} b={len(S2)}" in result.output


def test_on_a_delegate_a_step_reads_only_the_secrets_its_pipeline_names(
    tmp_path: Path,
    store: Store,  # noqa: F811
    runner: TemporalRunner,  # noqa: F811
    delegates: StartDelegate,  # noqa: F811
) -> None:
    """Distributed mode: the delegate's resolver is scoped the same way (its step's references)."""
    peek = [{"name": "V", "type": "Secret", "value": '<+secrets.getValue("s" + "2")>'}]
    use = [{"name": "TOKEN", "type": "Secret", "value": '<+secrets.getValue("s1")>'}]
    root = write_project(
        tmp_path / "project",
        pipeline(
            "peek",
            [
                stage(
                    "s",
                    [
                        shell(
                            "use", 'echo "token has ${#TOKEN} characters"', spec={"environmentVariables": use}
                        ),
                        shell("peek", 'echo "v has ${#V} characters"', spec={"environmentVariables": peek}),
                    ],
                )
            ],
            delegateSelectors=["scope"],
        ),
    )
    project = load_project(root)
    secrets = "---\n".join(
        yaml.safe_dump(
            {
                "secret": {
                    "identifier": name,
                    "name": name,
                    "type": "SecretText",
                    "spec": {"secretManagerIdentifier": "corral", "value": encrypt(project, value)},
                }
            }
        )
        for name, value in (("s1", S1), ("s2", S2))
    )
    (root / "secrets.yaml").write_text(secrets)
    delegates("d", "scope")
    record = create_execution(root, "peek", store=store)
    runner.start(record.id)
    assert runner.wait(record.id, 120) == "Failed"
    steps = {s.identifier: s for s in store.steps(record.id)}
    assert steps["use"].status == "Success"
    assert steps["peek"].status == "Failed"
    assert "secret 's2' is not referenced by this pipeline" in str(steps["peek"].error)
    logs = "\n".join(line.message for line in store.logs(record.id))
    assert f"token has {len(S1)} characters" in logs
    assert "v has" not in logs
