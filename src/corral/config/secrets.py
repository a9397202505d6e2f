"""Secret values: read from an environment variable, a file, or Corral's encrypted store.

Corral's own store keeps the value in the project YAML as a Fernet token (`value:
gAAAA...`), safe to commit; the key that decrypts it lives outside the YAML, in the
environment variable named by corral.yaml (`project.secrets.keyEnv`, default
CORRAL_SECRETS_KEY) or else in the key file (`project.secrets.keyFile`, default
.corral/secrets.key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from corral.errors import ConfigError, ExpressionError, Problem
from corral.expressions.masking import MIN_SECRET_LENGTH, short_secret

from .entities.common import strip_scope
from .entities.secret import CORRAL_MANAGER, ENV_MANAGER, FILE_MANAGER, Secret

if TYPE_CHECKING:
    from .project import Project

VALUE_PATH = "secret.spec.value"


class SecretResolver:
    """Looks secret values up on demand (and remembers them, to mask logs)."""

    def __init__(self, project: Project, *, environ: Mapping[str, str] | None = None) -> None:
        self.project = project
        self.environ = os.environ if environ is None else environ
        self.used: dict[str, str] = {}
        self.derived: set[str] = set()  # values expressions computed from secrets (toUpperCase, ...)

    def remember(self, value: str) -> None:
        """A value an expression computed from a secret: masked like the secret itself."""
        self.derived.add(value)

    def masked_values(self) -> set[str]:
        """Every value a masker built from this resolver must hide."""
        return {value for value in self.used.values() if value} | self.derived

    def __call__(self, ref: str) -> str:
        """For expressions (`<+secrets.getValue("id")>`): LookupError when there is no such
        secret, ExpressionError saying why when its value cannot be read."""
        if self.project.secret(ref) is None:
            raise LookupError(ref)
        try:
            return self.value(ref)
        except ConfigError as error:
            raise ExpressionError("; ".join(str(p) for p in error.problems)) from None

    def value(self, ref: str) -> str:
        """The value of secret `ref`; ConfigError naming the secret's file when it cannot be read."""
        identifier = strip_scope(ref)
        if identifier in self.used:
            return self.used[identifier]
        secret = self.project.secret(identifier)
        if secret is None:
            known = ", ".join(sorted(self.project.secrets)) or "none"
            raise ConfigError(
                [Problem("", f"secrets.getValue({ref!r})", f"secret not found; the project has {known}")]
            )
        value = self._read(secret)
        if 0 < len(value) < MIN_SECRET_LENGTH:
            raise self._problem(secret, short_secret(identifier, len(value)))
        self.used[identifier] = value
        return value

    def _read(self, secret: Secret) -> str:
        spec = secret.spec
        if spec.manager == ENV_MANAGER:
            if spec.value not in self.environ:
                raise self._problem(secret, f"environment variable {spec.value} is not set")
            return self.environ[spec.value]
        if spec.manager == FILE_MANAGER:
            path = Path(spec.value).expanduser()
            path = path if path.is_absolute() else self.project.root / path
            try:
                return path.read_text(encoding="utf-8").rstrip("\n")
            except OSError as error:
                raise self._problem(secret, f"cannot read secret file {path}: {error.strerror}") from None
        if spec.manager == CORRAL_MANAGER:
            return decrypt(self.project, spec.value, secret=secret)
        raise self._problem(secret, f"unknown secret manager {spec.secret_manager_identifier}")

    def _problem(self, secret: Secret, message: str) -> ConfigError:
        return ConfigError([Problem(secret.where(("secret", "spec", "value")), VALUE_PATH, message)])


def project_key(project: Project, *, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The Fernet key from the configured environment variable, else the key file; None if neither."""
    environ = os.environ if environ is None else environ
    settings = project.settings.project.secrets
    if environ.get(settings.key_env):
        return environ[settings.key_env].strip().encode()
    key_file = project.settings.key_file(project.root)
    if key_file.is_file():
        return key_file.read_bytes().strip()
    return None


def create_key(project: Project) -> Path:
    """Write a new key file (mode 600) if there is none; return its path."""
    from cryptography.fernet import Fernet

    key_file = project.settings.key_file(project.root)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key() + b"\n")
    return key_file


def encrypt(project: Project, plaintext: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A token for `value:` of a secret with `secretManagerIdentifier: corral`."""
    from cryptography.fernet import Fernet

    key = project_key(project, environ=environ)
    if key is None:
        key = create_key(project).read_bytes().strip()
    return Fernet(key).encrypt(plaintext.encode()).decode()


def decrypt(
    project: Project, token: str, *, secret: Secret | None = None, environ: Mapping[str, str] | None = None
) -> str:
    from cryptography.fernet import Fernet, InvalidToken

    where = secret.where(("secret", "spec", "value")) if secret else ""
    key = project_key(project, environ=environ)
    settings = project.settings.project.secrets
    if key is None:
        message = (
            f"no key to decrypt it: set {settings.key_env} or create {settings.key_file} "
            "(corral secret encrypt makes one)"
        )
        raise ConfigError([Problem(where, VALUE_PATH, message)])
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        message = "cannot decrypt: the value was not encrypted with this project's key"
        raise ConfigError([Problem(where, VALUE_PATH, message)]) from None
