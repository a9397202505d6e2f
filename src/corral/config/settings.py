"""`corral.yaml`: the file that marks a project's root and holds its settings.

project:
  name: ECS Tutorial
  store:
    url: sqlite:///.corral/corral.db     # default; relative paths are from the root
  secrets:
    keyEnv: CORRAL_SECRETS_KEY           # default
    keyFile: .corral/secrets.key         # default
  ignore: [charts/*, docker-compose.yaml]  # YAML below the root that is not Corral's
  identifier: ecs_tutorial               # <+project.identifier> (default: the name made one)
  description: ...                       # <+project.description>; tags: <+project.tags>
  org: {identifier: default, name: default, description: ""}     # <+org.*> (scope.py)
  account: {identifier: corral, name: Corral, companyName: Corral} # <+account.*>
  templates:
    stable: {deploy_stage: "2"}          # the stable version of a template with several (templates.py)
  notifications:                         # see corral.notify
    - type: slack                        # or webhook (generic JSON)
      url: <+secrets.getValue("slack_hook")>
      events: [PipelineStart, PipelineSuccess, PipelineFailed, ApprovalWaiting]  # default: all
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from .entities.common import Identifier, Model

SETTINGS_FILE = "corral.yaml"
STATE_DIR = ".corral"
FILES_DIR = "files"
DEFAULT_KEY_ENV = "CORRAL_SECRETS_KEY"


class StoreSettings(Model):
    url: str = f"sqlite:///{STATE_DIR}/corral.db"


class SecretsSettings(Model):
    """keyEnv / keyFile give the project's key. A server also writes dataKeyFile: then that
    key only unwraps the project's own data key, kept in dataKeyFile, which encrypts the
    values (so a project's key opens no other project's secrets); and managers: the secret
    managers its operator allows (unset: all)."""

    key_env: str = DEFAULT_KEY_ENV
    key_file: str = f"{STATE_DIR}/secrets.key"
    data_key_file: str | None = None
    managers: list[Literal["corral", "env", "file"]] | None = None


NotificationEvent = Literal["PipelineStart", "PipelineSuccess", "PipelineFailed", "ApprovalWaiting"]
NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = (
    "PipelineStart",
    "PipelineSuccess",
    "PipelineFailed",
    "ApprovalWaiting",
)


class NotificationSettings(Model):
    type: Literal["slack", "webhook"]
    url: str  # may be a <+secrets.getValue("...")> reference
    events: list[NotificationEvent] = Field(default_factory=lambda: list(NOTIFICATION_EVENTS))


class AccountSettings(Model):
    """What <+account.identifier>, <+account.name> and <+account.companyName> read."""

    identifier: Identifier = "corral"
    name: str = "Corral"
    company_name: str | None = None  # default: the account's name


class OrgSettings(Model):
    """What <+org.identifier>, <+org.name> and <+org.description> read."""

    identifier: Identifier | None = None  # default: project.orgIdentifier, else "default"
    name: str | None = None  # default: the org's identifier
    description: str = ""


class TemplateSettings(Model):
    """Which version of a template a use without `versionLabel` takes ("always use stable").
    Harness keeps this outside the template's YAML, as a setting of the template."""

    stable: dict[str, str] = Field(default_factory=dict)  # template identifier -> versionLabel

    @field_validator("stable", mode="before")
    @classmethod
    def _labels_as_text(cls, value: object) -> object:
        # `v1: 2` in YAML is a number; a versionLabel is text
        if isinstance(value, dict):
            return {
                key: str(label) if isinstance(label, int | float) else label for key, label in value.items()
            }
        return value


class ProjectSettingsBody(Model):
    name: str = "corral"
    identifier: Identifier | None = None  # <+project.identifier>; default: the name made an identifier
    org_identifier: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    account: AccountSettings = Field(default_factory=AccountSettings)
    org: OrgSettings = Field(default_factory=OrgSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    # paths (glob patterns, relative to the root) that hold YAML which is not Corral's
    ignore: list[str] = Field(default_factory=list)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    notifications: list[NotificationSettings] = Field(default_factory=list)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)


class ProjectSettings(Model):
    project: ProjectSettingsBody = Field(default_factory=ProjectSettingsBody)

    @property
    def name(self) -> str:
        return self.project.name

    def store_url(self, root: Path) -> str:
        """The store URL with a relative SQLite path made absolute against the root."""
        url = self.project.store.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str((root / url[len(prefix) :]).resolve())
        return url

    def key_file(self, root: Path) -> Path:
        path = Path(self.project.secrets.key_file).expanduser()
        return path if path.is_absolute() else root / path

    def data_key_file(self, root: Path) -> Path | None:
        if self.project.secrets.data_key_file is None:
            return None
        path = Path(self.project.secrets.data_key_file).expanduser()
        return path if path.is_absolute() else root / path


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above start that holds a corral.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    return None


class ProjectNotFound(Exception):
    """No project where one was asked for (a usage error: exit code 2)."""


def project_root(option: str | Path | None, *, cwd: Path | None = None) -> Path:
    """The project folder: `--project DIR` when given, else the nearest corral.yaml upwards."""
    if option is not None:
        root = Path(option).expanduser()
        if not root.is_dir():
            raise ProjectNotFound(f"--project {option}: no such folder")
        return root.resolve()
    start = cwd or Path.cwd()
    found = find_project_root(start)
    if found is None:
        raise ProjectNotFound(
            f"no {SETTINGS_FILE} in {start} or any folder above it; run inside a project or pass --project DIR"
        )
    return found
