"""Item 5 of issue 12, replayed through a real server over HTTP: every name that becomes part
of a file path is an identifier, resolved inside its project, refused with 4xx and audited
before anything is written; Git sync sources are checked (local paths and file:// for global
admins only, remote URLs against the operator's --git-allow list) and Git errors are 4xx."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.server.helpers import ENVIRONMENTS, Api, Live, free_port, live_server
from tests.store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)

from .paths_helpers import (
    admin_fixture,
    crafted_repo,
    files_under,
    git_repo,
    live_fixture,
    mallory_fixture,
    refused_writes,
)

FIXTURES = (live_fixture, admin_fixture, mallory_fixture)

TRAVERSALS = [
    "../../../beta/environment/planted",  # another project's folder (the attack as filed)
    "../../../../../outside/planted",  # above the data folder
    "/tmp/planted",
    "a/b",
    "planted\x00x",
    "p" * 300,
]


def infrastructure(identifier: str, environment_ref: str) -> str:
    document = {
        "infrastructureDefinition": {
            "name": "Planted",
            "identifier": identifier,
            "environmentRef": environment_ref,
            "type": "ECS",
            "spec": {"connectorRef": "aws", "region": "us-east-1", "cluster": "c"},
        }
    }
    return yaml.safe_dump(document, sort_keys=False)


def input_set(pipeline: str) -> str:
    document = {"inputSet": {"name": "S", "identifier": "s", "pipeline": {"identifier": pipeline}}}
    return yaml.safe_dump(document, sort_keys=False)


def problems_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 422, (response.status_code, response.text)
    problems: list[dict[str, str]] = response.json()["problems"]
    return problems


def test_environment_ref_traversal_as_project_admin_is_refused_audited_and_writes_nothing(
    tmp_path: Path, admin: Api, mallory: Api
) -> None:
    before = files_under(tmp_path)
    beta_before = admin.get("/projects/beta")["entities"]
    for ref in TRAVERSALS:
        response = mallory.call(
            "PUT", "/projects/alpha/entities", json={"yaml": infrastructure("planted", ref)}
        )
        [problem] = problems_of(response)
        assert problem["path"] == "infrastructureDefinition.environmentRef"
        assert "expected letters, digits, '_' or '$', not starting with a digit" in problem["message"]
        edited = mallory.call(
            "PUT",
            "/projects/alpha/entities/infrastructureDefinition/planted",
            json={"yaml": infrastructure("planted", ref)},
        )
        assert problems_of(edited)[0]["path"] == "infrastructureDefinition.environmentRef"
    after = files_under(tmp_path)
    assert after == before
    assert not [path for path in after if "planted" in path]
    assert admin.get("/projects/beta")["entities"] == beta_before
    refused = refused_writes(admin, "mallory")
    assert len(refused) == 2 * len(TRAVERSALS)
    assert {entry["project"] for entry in refused} == {"alpha"}
    assert {entry["detail"]["attempted"] for entry in refused} == {"entity.put"}  # type: ignore[index]
    assert all("environmentRef" in str(entry["detail"]) for entry in refused)


def test_hostile_identifiers_and_scopes_are_refused_before_any_write(
    tmp_path: Path, admin: Api, mallory: Api
) -> None:
    before = files_under(tmp_path)
    for name in ["../x", "a/b", "nul\x00x", "x" * 300, "..", "9lives"]:
        refused = mallory.call("PUT", "/projects/alpha/entities", json={"yaml": infrastructure(name, "dev")})
        assert problems_of(refused)[0]["path"] == "infrastructureDefinition.identifier"
        scoped = mallory.call("PUT", "/projects/alpha/entities", json={"yaml": input_set(name)})
        assert problems_of(scoped)[0]["path"] == "inputSet.pipeline.identifier"
    for name in ["a.b", "a-b", "nul%00x"]:
        secret = mallory.call("PUT", f"/projects/alpha/secrets/{name}", json={"value": "v"})
        assert problems_of(secret)[0]["path"] == "identifier"
    assert files_under(tmp_path) == before
    assert len(refused_writes(admin, "mallory")) == 6 * 2 + 3
    # Harness's rule allows '$' and names without any symbol: those still work (values of 4+ characters)
    ok = mallory.call("PUT", "/projects/alpha/secrets/api$key", json={"value": "v-long-enough"})
    assert ok.status_code == 200, ok.text


def test_git_sync_from_a_local_path_or_file_url_is_for_global_admins_only(
    tmp_path: Path, admin: Api, mallory: Api
) -> None:
    repo = git_repo(tmp_path / "repo", {"envs.yaml": ENVIRONMENTS.replace("Dev", "From Git")})
    before = files_under(tmp_path / "server")
    for url in [str(repo), f"file://{repo}", f"file://{tmp_path}/server/projects/beta"]:
        response = mallory.post("/projects/alpha/sync", {"url": url, "ref": "main"})
        assert response.status_code == 403, response.text
        assert "only a global admin may sync" in response.json()["detail"]
    assert files_under(tmp_path / "server") == before
    refused = refused_writes(admin, "mallory")
    assert [entry["detail"]["attempted"] for entry in refused] == ["project.sync"] * 3  # type: ignore[index]
    assert "only a global admin" in str(refused[0]["detail"])

    for url in [str(repo), f"file://{repo}"]:
        synced = admin.post("/projects/alpha/sync", {"url": url, "ref": "main"}, 200).json()
        assert synced["entities"] == {"environment": 2}
    document = admin.get("/projects/alpha/entities/environment/dev")["document"]
    assert document["environment"]["name"] == "From Git"


def test_git_sync_errors_are_4xx_with_a_message(live: Live, admin: Api) -> None:
    closed = free_port()
    answers = {
        f"https://127.0.0.1:{closed}/repo.git": 422,  # nothing listens
        f"{live.url}/health": 422,  # an HTTP server that is not a Git server
        "ssh://-oProxyCommand=touch%20planted/repo": 400,  # would be an ssh option
        f"ssh://git@127.0.0.1:{closed}/repo.git": 422,  # ssh never prompts, fails at once
        f"git://127.0.0.1:{closed}/repo.git": 400,  # no timeout, no encryption: refused
        "git@-oProxyCommand=x:repo": 422,  # not user@host:path; as a local path: no repository
    }
    for url, status in answers.items():
        response = admin.post("/projects/alpha/sync", {"url": url, "ref": "main"})
        assert response.status_code == status, (url, response.status_code, response.text)
        body = response.json()
        message = body["problems"][0]["message"] if status == 422 else body["detail"]
        assert message and "Traceback" not in message
    assert admin.get("/projects") == []  # nothing was created


def test_git_allow_list_restricts_remote_urls(tmp_path: Path, live: Live, admin: Api) -> None:
    live.server.settings.git_allow = ["http://127.0.0.1:*/acme/*"]
    closed = free_port()
    other = admin.post("/projects/alpha/sync", {"url": f"http://127.0.0.1:{closed}/other/x.git"})
    assert other.status_code == 403 and "--git-allow" in other.json()["detail"]
    allowed = admin.post("/projects/alpha/sync", {"url": f"http://127.0.0.1:{closed}/acme/x.git"})
    assert allowed.status_code == 422  # allowed: the fetch was tried and failed
    assert "cannot fetch the repository" in allowed.json()["problems"][0]["message"]
    refused = refused_writes(admin, "admin")
    assert len(refused) == 1 and "/other/x.git" in str(refused[0]["detail"])
    # a global admin may still name a local repository
    repo = git_repo(tmp_path / "repo", {"envs.yaml": ENVIRONMENTS})
    admin.post("/projects/alpha/sync", {"url": str(repo), "ref": "main"}, 200)


def git_connector(identifier: str, url: str) -> str:
    document = {
        "connector": {
            "name": identifier,
            "identifier": identifier,
            "type": "Git",
            "spec": {"url": url, "type": "Http", "connectionType": "Repo"},
        }
    }
    return yaml.safe_dump(document, sort_keys=False)


def test_a_git_connector_reading_the_servers_disk_is_for_global_admins_only(
    tmp_path: Path, admin: Api, mallory: Api
) -> None:
    mirrors = tmp_path / "server" / "git-cache"  # where synced repositories of every project live
    for url in [str(mirrors), f"file://{mirrors}"]:
        response = mallory.call("PUT", "/projects/alpha/entities", json={"yaml": git_connector("disk", url)})
        [problem] = problems_of(response)
        assert (
            problem["path"] == "connector.spec.url"
            and "only a global admin may add one" in problem["message"]
        )
    assert len(refused_writes(admin, "mallory")) == 2
    remote = mallory.call(
        "PUT",
        "/projects/alpha/entities",
        json={"yaml": git_connector("remote", "https://git.example.com/a.git")},
    )
    assert remote.status_code == 200, remote.text
    admin.put("/projects/alpha/entities", {"yaml": git_connector("disk", str(mirrors))}, 200)
    # the admin's connector stays when the project admin changes something else
    qa = "environment:\n  name: QA\n  identifier: qa\n  type: PreProduction\n"
    mallory.put("/projects/alpha/entities", {"yaml": qa}, 200)
    moved = mallory.call("PUT", "/projects/alpha/entities", json={"yaml": git_connector("disk", "/etc")})
    assert problems_of(moved)[0]["path"] == "connector.spec.url"


def test_refusals_with_a_nul_are_audited_on_postgresql(tmp_path: Path, postgres_url: str) -> None:  # noqa: F811
    with live_server(tmp_path / "server", store_url=postgres_url) as running:
        admin = running.client()
        admin.post("/projects", {"name": "alpha", "yaml": ENVIRONMENTS}, 201)
        owner = admin.user("owner", project="alpha", role="admin")
        secret = owner.call("PUT", "/projects/alpha/secrets/nul%00x", json={"value": "v"})
        assert problems_of(secret)[0]["path"] == "identifier"
        document = owner.call("PUT", "/projects/alpha/entities", json={"yaml": input_set("nul\x00x")})
        assert problems_of(document)[0]["path"] == "inputSet.pipeline.identifier"
        refused = refused_writes(admin, "owner")
        assert [entry["target"] for entry in refused] == ["alpha", "alpha/secret/nul\\x00x"]


def test_a_repository_tree_that_climbs_out_is_refused_and_writes_nothing(
    tmp_path: Path, admin: Api, mallory: Api
) -> None:
    planted = "environment:\n  name: Planted\n  identifier: planted\n  type: PreProduction\n"
    climbing = crafted_repo(tmp_path / "climbing", ["x", "..", "..", "..", "beta", "planted.yaml"], planted)
    before = files_under(tmp_path / "server")
    response = admin.post("/projects/alpha/sync", {"url": str(climbing), "ref": "main"})
    [problem] = problems_of(response)
    assert problem["file"] == "git:x/../../../beta/planted.yaml" and "'..'" in problem["message"]
    assert files_under(tmp_path / "server") == before
    assert refused_writes(admin, "admin")[0]["detail"]["attempted"] == "project.sync"  # type: ignore[index]
    # the server's own state folder of the project is never taken from a repository
    state = git_repo(tmp_path / "state", {"envs.yaml": ENVIRONMENTS, ".corral/planted.yaml": planted})
    admin.post("/projects/alpha/sync", {"url": str(state), "ref": "main"}, 200)
    assert not [path for path in files_under(tmp_path / "server") if "planted" in path]


def test_corral_server_git_allow_option_restricts_syncs(tmp_path: Path) -> None:
    port = free_port()
    token_file = tmp_path / "admin-token"
    command = [
        sys.executable,
        "-m",
        "corral.cli",
        "server",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "d"),
    ]
    command += ["--admin-token-file", str(token_file), "--git-allow", "https://git.example.com/acme/*"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "corral server did not start"
            time.sleep(0.1)
        api = Api(url, token_file.read_text().strip())
        refused = api.post("/projects/alpha/sync", {"url": "https://git.example.org/acme/x.git"})
        assert refused.status_code == 403, refused.text
        assert "https://git.example.com/acme/*" in refused.json()["detail"]
    finally:
        server.terminate()
        server.wait(10)
