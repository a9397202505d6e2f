"""Projects and entities through the API: create from YAML, upload, edit, list, get, delete,
validation problems as 422, secrets that are never returned, sync from a Git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from .helpers import ENVIRONMENTS, HELLO, Api, Live

QA = "environment:\n  name: QA\n  identifier: qa\n  type: PreProduction\n"


def test_create_list_get_edit_and_delete_entities(admin: Api) -> None:
    created = admin.post("/projects", {"name": "shop", "yaml": ENVIRONMENTS + "---\n" + HELLO}, 201).json()
    assert created["entities"] == {"environment": 2, "pipeline": 1}
    assert [p["name"] for p in admin.get("/projects")] == ["shop"]
    listed = admin.get("/projects/shop/entities", params={"kind": "environment"})
    assert [(e["identifier"], e["file"]) for e in listed] == [
        ("dev", "environment/dev.yaml"),
        ("prod", "environment/prod.yaml"),
    ]

    admin.put("/projects/shop/entities", {"yaml": QA}, 200)
    got = admin.get("/projects/shop/entities/environment/qa")
    assert got["document"] == yaml.safe_load(QA) and got["name"] == "QA"

    edited = QA.replace("name: QA", "name: Quality")
    admin.put("/projects/shop/entities/environment/qa", {"yaml": edited}, 200)
    assert admin.get("/projects/shop/entities/environment/qa")["name"] == "Quality"
    mismatch = admin.put("/projects/shop/entities/environment/dev", {"yaml": edited}, 422)
    assert "identifier dev" in mismatch.json()["detail"]

    admin.call("DELETE", "/projects/shop/entities/environment/qa", 204)
    admin.call("GET", "/projects/shop/entities/environment/qa", 404)
    admin.call("GET", "/projects/shop/entities/widget/qa", 404)
    admin.post("/projects", {"name": "shop"}, 409)
    admin.call("DELETE", "/projects/shop", 204)
    assert admin.get("/projects") == []


def test_validation_problems_are_422_with_file_path_and_message(admin: Api) -> None:
    admin.post("/projects", {"name": "shop", "yaml": ENVIRONMENTS}, 201)
    bad = QA.replace("PreProduction", "Staging")
    problems = admin.put("/projects/shop/entities", {"yaml": bad}, 422).json()["problems"]
    assert problems == [
        {"file": "environment/qa.yaml:4", "path": "environment.type", "message": problems[0]["message"]}
    ]
    assert "PreProduction" in problems[0]["message"]
    dangling = HELLO.replace("type: Custom", "type: Custom\n      spec_typo: 1")
    assert admin.put("/projects/shop/entities", {"yaml": dangling}, 422).json()["problems"]
    syntax = admin.put("/projects/shop/entities", {"yaml": "environment: [unclosed"}, 422).json()["problems"]
    assert syntax[0]["file"].startswith("yaml")
    not_entity = admin.put("/projects/shop/entities", {"yaml": "hello: world"}, 422).json()["problems"]
    assert "expected one entity" in not_entity[0]["message"]
    # nothing of a refused change is kept
    assert [e["identifier"] for e in admin.get("/projects/shop/entities")] == ["dev", "prod"]
    new = admin.post("/projects", {"name": "other", "yaml": bad}, 422).json()
    assert new["problems"][0]["path"] == "environment.type"
    assert [p["name"] for p in admin.get("/projects")] == ["shop"]


def test_secret_values_are_write_only_and_encrypted_at_rest(live: Live, admin: Api) -> None:
    admin.post("/projects", {"name": "shop"}, 201)
    value = "hunter2-very-secret"
    info = admin.put("/projects/shop/secrets/db_password", {"value": value}, 200).json()
    assert info["identifier"] == "db_password"
    assert [s["identifier"] for s in admin.get("/projects/shop/secrets")] == ["db_password"]
    document = admin.get("/projects/shop/entities/secret/db_password")["document"]
    assert document["secret"]["spec"]["value"] == "<encrypted>"
    folder = live.server.settings.projects / "shop"
    for path in folder.rglob("*"):
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path
    on_disk = yaml.safe_load((folder / "secrets" / "db_password.yaml").read_text())
    assert on_disk["secret"]["spec"]["value"].startswith("gAAAA")
    admin.put("/projects/shop/secrets/9bad", {"value": "x"}, 422)


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_sync_a_project_from_git(tmp_path: Path, admin: Api) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "corral.yaml").write_text("project:\n  name: from-git\n")
    (repo / "envs.yaml").write_text(ENVIRONMENTS)
    (repo / "pipelines").mkdir()
    (repo / "pipelines" / "hello.yaml").write_text(HELLO)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "tag", "v1")
    (repo / "envs.yaml").write_text(ENVIRONMENTS.replace("type: Production", "type: Staging"))
    _git(repo, "commit", "-q", "-am", "broken")

    broken = admin.post("/projects/app/sync", {"url": str(repo), "ref": "main"}, 422).json()
    assert broken["problems"][0]["file"].startswith("envs.yaml")
    synced = admin.post("/projects/app/sync", {"url": str(repo), "ref": "v1"}, 200).json()
    assert synced["entities"] == {"environment": 2, "pipeline": 1} and synced["git_ref"] == "v1"
    admin.put("/projects/app/secrets/token", {"value": "kept-across-syncs"}, 200)
    admin.post("/projects/app/sync", {"url": str(repo), "ref": "v1"}, 200)
    assert [s["identifier"] for s in admin.get("/projects/app/secrets")] == ["token"]
    execution_id = admin.post("/projects/app/pipelines/hello/executions", {}, 202).json()["id"]
    assert admin.wait(execution_id)["status"] == "Success"
    missing = admin.post("/projects/app/sync", {"url": str(repo), "ref": "nope"}, 422).json()
    assert "not found" in missing["problems"][0]["message"]
    admin.post("/projects/other/sync", {"url": str(tmp_path / "absent"), "ref": "main"}, 422)
