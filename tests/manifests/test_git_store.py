"""Manifests from git: branch, tag, commit, folders, and clear errors, on real repositories
made with the git CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from corral.errors import ConfigError, CorralError, Problem
from corral.manifests import GitStore, ManifestFile


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    command = ["git", "-c", "user.name=Corral Test", "-c", "user.email=test@example.com", *args]
    return subprocess.run(
        command, cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: v1 (tagged) then v2; dev: a branch off v1 with its own task definition."""
    path = tmp_path / "manifests-repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit_files(
        path,
        {
            "ecs/task.yaml": "family: web-v1\n",
            "ecs/service.json": '{"serviceName": "web"}',
            "ecs/scaling/policy.yml": "policyName: P1\n",
            "ecs/README.md": "not a manifest",
        },
        "v1",
    )
    git(path, "tag", "-a", "v1.0", "-m", "release 1.0")
    git(path, "tag", "light")
    git(path, "branch", "dev")
    commit_files(path, {"ecs/task.yaml": "family: web-v2\n"}, "v2")
    git(path, "checkout", "-q", "dev")
    commit_files(path, {"ecs/task.yaml": "family: web-dev\n"}, "dev work")
    git(path, "checkout", "-q", "main")
    return path


def sha_of(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", f"{ref}^{{commit}}")


def texts(files: list[ManifestFile]) -> list[str]:
    return [f.text for f in files]


def refused(store: GitStore, paths: list[str]) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        store.fetch(paths)
    return caught.value.problems


def test_branch(repo: Path) -> None:
    assert GitStore(str(repo), branch="main").fetch(["ecs/task.yaml"]) == [
        ManifestFile(f"git:{repo}@main:ecs/task.yaml", "family: web-v2\n")
    ]
    assert texts(GitStore(str(repo), branch="dev").fetch(["ecs/task.yaml"])) == ["family: web-dev\n"]


def test_annotated_and_lightweight_tags(repo: Path) -> None:
    assert texts(GitStore(str(repo), tag="v1.0").fetch(["ecs/task.yaml"])) == ["family: web-v1\n"]
    assert texts(GitStore(str(repo), tag="light").fetch(["ecs/task.yaml"])) == ["family: web-v1\n"]


def test_commit_full_and_abbreviated(repo: Path) -> None:
    first = sha_of(repo, "v1.0")
    assert texts(GitStore(str(repo), commit=first).fetch(["ecs/task.yaml"])) == ["family: web-v1\n"]
    files = GitStore(str(repo), commit=first[:10]).fetch(["ecs/task.yaml"])
    assert files == [ManifestFile(f"git:{repo}@{first[:10]}:ecs/task.yaml", "family: web-v1\n")]


def test_folder_gives_its_manifests_sorted(repo: Path) -> None:
    files = GitStore(str(repo), branch="main").fetch(["ecs"])
    assert [f.source for f in files] == [
        f"git:{repo}@main:ecs/scaling/policy.yml",
        f"git:{repo}@main:ecs/service.json",
        f"git:{repo}@main:ecs/task.yaml",
    ]


def test_files_and_folders_together_with_a_leading_slash(repo: Path) -> None:
    files = GitStore(str(repo), branch="main").fetch(["/ecs/service.json", "ecs/scaling/"])
    assert texts(files) == ['{"serviceName": "web"}', "policyName: P1\n"]


def test_only_committed_content_is_read(repo: Path) -> None:
    (repo / "ecs" / "task.yaml").write_text("family: uncommitted\n")
    assert texts(GitStore(str(repo), branch="main").fetch(["ecs/task.yaml"])) == ["family: web-v2\n"]


def test_missing_branch_names_repo_ref_and_known_branches(repo: Path) -> None:
    assert refused(GitStore(str(repo), branch="release"), ["ecs/task.yaml"]) == [
        Problem(f"git:{repo}@release", "", "branch 'release' not found (branches: dev, main)")
    ]


def test_missing_tag_and_commit(repo: Path) -> None:
    assert (
        refused(GitStore(str(repo), tag="v9"), ["ecs"])[0].message == "tag 'v9' not found (tags: light, v1.0)"
    )
    missing = "0123456789abcdef0123456789abcdef01234567"
    assert refused(GitStore(str(repo), commit=missing), ["ecs"]) == [
        Problem(f"git:{repo}@{missing}", "", f"commit '{missing}' not found")
    ]


def test_missing_paths_are_all_reported(repo: Path) -> None:
    store = GitStore(str(repo), branch="main")
    assert refused(store, ["ecs/nope.yaml", "ecs/task.yaml", "ecs/task.yaml/deeper", "docs"]) == [
        Problem(f"git:{repo}@main:ecs/nope.yaml", "", "no such file or folder at this ref"),
        Problem(f"git:{repo}@main:ecs/task.yaml/deeper", "", "no such file or folder at this ref"),
        Problem(f"git:{repo}@main:docs", "", "no such file or folder at this ref"),
    ]


def test_path_present_on_another_branch_only(repo: Path) -> None:
    commit_files(repo, {"ecs/new.yaml": "family: new\n"}, "add new")
    assert texts(GitStore(str(repo), branch="main").fetch(["ecs/new.yaml"])) == ["family: new\n"]
    assert (
        refused(GitStore(str(repo), branch="dev"), ["ecs/new.yaml"])[0].file == f"git:{repo}@dev:ecs/new.yaml"
    )


def test_parent_paths_and_symlinks_are_refused(repo: Path) -> None:
    os.symlink("/etc/passwd", repo / "ecs" / "link.yaml")
    commit_files(repo, {}, "add link")
    store = GitStore(str(repo), branch="main")
    assert refused(store, ["../outside.yaml", "ecs/link.yaml"]) == [
        Problem(f"git:{repo}@main:../outside.yaml", "", "'..' is not allowed in a repository path"),
        Problem(
            f"git:{repo}@main:ecs/link.yaml",
            "",
            "is a symbolic link or submodule; give the file it points to",
        ),
    ]
    assert "ecs/link.yaml" not in [f.source.split(":")[-1] for f in store.fetch(["ecs"])]


def test_folder_without_manifests(repo: Path) -> None:
    commit_files(repo, {"docs/index.md": "# docs"}, "docs")
    assert refused(GitStore(str(repo), branch="main"), ["docs"])[0].message == (
        "folder holds no .json, .yaml or .yml file"
    )


def test_not_a_repository(tmp_path: Path) -> None:
    assert refused(GitStore(str(tmp_path), branch="main"), ["x.yaml"]) == [
        Problem(f"git:{tmp_path}", "", "is not a git repository")
    ]


@pytest.mark.parametrize("refs", [{}, {"branch": "main", "tag": "v1.0"}])
def test_exactly_one_ref(refs: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="give exactly one of branch, commit or tag"):
        GitStore("/srv/repo", **refs)


# -- through a URL, into the cache ---------------------------------------------------------


def test_url_is_fetched_into_the_cache(repo: Path, tmp_path: Path) -> None:
    url = f"file://{repo}"
    cache = tmp_path / "cache"
    files = GitStore(url, branch="dev", cache_dir=cache).fetch(["ecs/task.yaml"])
    assert files == [ManifestFile(f"git:{url}@dev:ecs/task.yaml", "family: web-dev\n")]
    assert texts(GitStore(url, tag="v1.0", cache_dir=cache).fetch(["ecs/task.yaml"])) == ["family: web-v1\n"]
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 1  # one mirror per URL


def test_cached_branch_follows_new_commits_upstream(repo: Path, tmp_path: Path) -> None:
    url, cache = f"file://{repo}", tmp_path / "cache"
    assert texts(GitStore(url, branch="main", cache_dir=cache).fetch(["ecs/task.yaml"])) == [
        "family: web-v2\n"
    ]
    commit_files(repo, {"ecs/task.yaml": "family: web-v3\n"}, "v3")
    assert texts(GitStore(url, branch="main", cache_dir=cache).fetch(["ecs/task.yaml"])) == [
        "family: web-v3\n"
    ]


def test_cached_commit_needs_no_fetch(repo: Path, tmp_path: Path) -> None:
    url, cache = f"file://{repo}", tmp_path / "cache"
    first = sha_of(repo, "v1.0")
    GitStore(url, branch="main", cache_dir=cache).fetch(["ecs"])
    shutil.rmtree(repo)  # upstream gone: the commit is still in the mirror
    assert texts(GitStore(url, commit=first, cache_dir=cache).fetch(["ecs/task.yaml"])) == [
        "family: web-v1\n"
    ]


def test_url_missing_branch_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    url = f"file://{repo}"
    problems = refused(GitStore(url, branch="release", cache_dir=tmp_path / "c"), ["ecs"])
    assert problems == [Problem(f"git:{url}@release", "", "branch 'release' not found (branches: dev, main)")]


def test_unreachable_url_is_a_clear_error(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/nowhere"
    with pytest.raises(CorralError, match=f"^git:{url}: cannot fetch the repository: "):
        GitStore(url, branch="main", cache_dir=tmp_path / "cache").fetch(["ecs"])


def test_credentials_in_a_url_stay_out_of_messages(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        GitStore("https://bot:s3cr3t@git.example.com/team/manifests.git", commit="", tag="")
    assert caught.value.problems[0].file == "git:https://git.example.com/team/manifests.git"
    assert "s3cr3t" not in str(caught.value)
