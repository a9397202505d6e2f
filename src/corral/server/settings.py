"""Where the server keeps things and how it is reached."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corral.config.settings import DEFAULT_KEY_ENV

ADMIN_TOKEN_ENV = "CORRAL_ADMIN_TOKEN"
MAX_REQUEST_BYTES = 8 * 1024 * 1024


@dataclass
class ServerSettings:
    """data_dir holds `.corral/corral.db` (SQLite, unless store_url names a database), the
    projects (unless projects_dir is given), the Git cache and the secrets key file. The key is
    read from the environment variable key_env when set, else from key_file (made on first use);
    it only wraps the projects' data keys (data_keys_dir/<project>.key), which encrypt values."""

    data_dir: Path
    store_url: str | None = None
    projects_dir: Path | None = None
    key_env: str = DEFAULT_KEY_ENV
    key_file: Path | None = None
    admin_token: str | None = None  # the first admin's token (from --admin-token-file or the env)
    admin_name: str = "admin"
    executor_options: Any = None  # ExecutorOptions for every run
    resume_left_behind: bool = True  # at start, continue executions whose process is gone
    # not root: run ShellScript steps as the server's own OS user (unsafe for shared servers)
    allow_local_steps: bool = False
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    # secret managers besides `corral` that projects may use: `file` and `env` read the
    # server's own files and environment, so none unless the operator names them
    allow_secret_managers: tuple[str, ...] = ()
    # at start, bring the projects' settings and data keys up to date (not for `corral user`)
    update_projects: bool = True
    # --git-allow: shell-style patterns a remote sync URL must match (none: any remote URL)
    git_allow: list[str] = field(default_factory=list)
    max_request_bytes: int = MAX_REQUEST_BYTES  # a request body over this gets 413

    @property
    def database_url(self) -> str:
        if self.store_url:
            return self.store_url
        return f"sqlite:///{(self.data_dir / '.corral' / 'corral.db').resolve()}"

    @property
    def projects(self) -> Path:
        return self.projects_dir or self.data_dir / "projects"

    @property
    def secrets_key_file(self) -> Path:
        return (self.key_file or self.data_dir / ".corral" / "secrets.key").resolve()

    @property
    def data_keys_dir(self) -> Path:
        """One data key per project, each wrapped with the secrets key."""
        return (self.data_dir / ".corral" / "project-keys").resolve()
