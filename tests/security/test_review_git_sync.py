"""Review of issue 12, item 5 (Git sync): the access token written into a sync URL
(`https://user:TOKEN@host/repo`, the usual way to sync a private repository) is a secret. It
was stored with the project and shown to every viewer (GET /projects, /projects/NAME); now
only the URL without credentials is kept and shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import HELLO, Live, live_server

from .paths_helpers import crafted_repo
from .review_helpers import git_over_http

TOKEN = "ghp_reviewSyncToken0123456789abcdef"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


def test_a_sync_urls_token_is_never_shown_nor_stored(live: Live, tmp_path: Path) -> None:
    repository = crafted_repo(tmp_path / "repo", ["pipeline", "hello.yaml"], HELLO)
    admin = live.client()
    admin.post("/projects", {"name": "alpha"}, 201)
    owner = admin.user("owner", project="alpha", role="admin")
    viewer = admin.user("vic", project="alpha", role="viewer")
    with git_over_http(repository) as url:
        secret_url = url.replace("http://", f"http://deploy:{TOKEN}@")
        synced = owner.post("/projects/alpha/sync", {"url": secret_url, "ref": "main"}, 200).json()
    assert synced["entities"] == {"pipeline": 1}
    assert synced["git_url"] == url
    seen = [synced, viewer.get("/projects/alpha"), viewer.get("/projects"), admin.get("/audit")]
    assert TOKEN not in str(seen), seen
    data = live.server.settings.data_dir
    kept = [path for path in data.rglob("*") if path.is_file() and TOKEN.encode() in path.read_bytes()]
    assert kept == []  # the database, the project's files, the Git cache
