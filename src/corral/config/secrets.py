"""Secret values: read from an environment variable, a file, or Corral's encrypted store.

Corral's own store keeps the value in the project YAML as a Fernet token (`value:
gAAAA...`), safe to commit; the key that decrypts it lives outside the YAML, in the
environment variable named by corral.yaml (`project.secrets.keyEnv`, default
CORRAL_SECRETS_KEY) or else in the key file (`project.secrets.keyFile`, default
.corral/secrets.key).

On a server each project has its own data key (envelope encryption): corral.yaml names it
(`project.secrets.dataKeyFile`), stored encrypted ("wrapped") with the server's key, and it
alone encrypts the project's values; a leaked data key opens no other project's secrets.
The server also lists the secret managers its operator allows (`project.secrets.managers`):
`file` and `env` read the server's own files and environment, so they are refused unless
named by `corral server --allow-secret-manager`.

A resolver can be scoped to the secrets a run references (`allowed`): any other identifier
fails with an error saying so, so a step cannot compute its way to another secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from corral.errors import ConfigError, ExpressionError, Problem
from corral.expressions.masking import MIN_SECRET_LENGTH, short_secret

from .entities.common import strip_scope
from .entities.secret import CORRAL_MANAGER, ENV_MANAGER, FILE_MANAGER, Secret

if TYPE_CHECKING:
    from .project import Project

VALUE_PATH = "secret.spec.value"
MANAGER_LINE = ("secret", "spec", "secretManagerIdentifier")
MANAGER_PATH = "secret.spec.secretManagerIdentifier"
ALLOW_OPTION = "corral server --allow-secret-manager"
# <+secrets.getValue("id")> with a literal identifier (account./org. scopes allowed)
GET_VALUE_RE = re.compile(r"""secrets\s*\.\s*getValue\(\s*(["'])([A-Za-z0-9_.]+)\1\s*\)""")


def referenced_ids(text: str) -> set[str]:
    """The secret identifiers a text names with <+secrets.getValue("...")>."""
    return {strip_scope(match.group(2)) for match in GET_VALUE_RE.finditer(text)}


class SecretProblem(Problem):
    """A problem of a secret's own definition: it stays at the secret's file and path wherever
    the secret is used, so it is reported once per secret, not once per use."""


class MissingSecretValue(ConfigError):
    """A secret exported from Harness without its value. Its problem stays at the secret's own
    file and path wherever the secret is used, so it is reported once per secret, not per use."""


def no_value_message(project: Project, secret: Secret) -> str:
    """What to do about a secret exported from Harness: how to give it a value."""
    identifier = secret.identifier
    stored = "names a value in Harness's own secret manager" if secret.spec.value else "has no value"
    return (
        f"secret '{identifier}' {stored}: it was exported from Harness, which never exports secret "
        "values. Give it one, any of: an environment variable (secretManagerIdentifier: env, "
        "valueType: Reference, value: THE_VARIABLE); the value encrypted into the project "
        "(`corral secret encrypt --project . < file-with-the-value`, then secretManagerIdentifier: "
        "corral, valueType: Inline, value: the token it prints); on a Corral server, "
        f'PUT /api/v1/projects/{project.name}/secrets/{identifier} with {{"value": "..."}}'
    )


def missing_value_problem(project: Project, secret: Secret) -> Problem:
    return SecretProblem(secret.where(MANAGER_LINE), VALUE_PATH, no_value_message(project, secret))


def secrets_without_value(project: Project) -> list[Problem]:
    """One problem per secret exported from Harness without its value (none per use)."""
    return [
        missing_value_problem(project, secret)
        for _, secret in sorted(project.secrets.items())
        if secret.spec.exported_without_value
    ]


def missing_value_cause(error: BaseException) -> Problem | None:
    """The secret's own problem when an expression failed because that secret has no value
    (found through the chain of exceptions), so a render reports it once, at the secret."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MissingSecretValue):
            return current.problems[0]
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def refused_manager(project: Project, secret: Secret) -> str | None:
    """Why the project's settings refuse the secret's manager, or None."""
    allowed = project.settings.project.secrets.managers
    if allowed is None or secret.spec.manager in allowed:
        return None
    manager = secret.spec.secret_manager_identifier
    return (
        f"secret manager '{manager}' is refused on this server: it reads the server's own "
        f"{'files' if secret.spec.manager == FILE_MANAGER else 'environment'}; use 'corral' "
        f"(the API's encrypted secrets), or an operator allows it with {ALLOW_OPTION} {manager}"
    )


class SecretResolver:
    """Looks secret values up on demand (and remembers them, to mask logs)."""

    def __init__(
        self,
        project: Project,
        *,
        environ: Mapping[str, str] | None = None,
        allowed: Iterable[str] | None = None,
    ) -> None:
        self.project = project
        self.environ = os.environ if environ is None else environ
        self.used: dict[str, str] = {}
        self.derived: set[str] = set()  # values expressions computed from secrets (toUpperCase, ...)
        # None: every secret of the project; else only these identifiers (a run's scope)
        self.allowed: set[str] | None = None if allowed is None else {strip_scope(a) for a in allowed}

    def allow(self, identifiers: Iterable[str]) -> None:
        """Widen the scope (a stage's manifests, once fetched, name their secrets)."""
        if self.allowed is not None:
            self.allowed.update(strip_scope(i) for i in identifiers)

    def remember(self, value: str) -> None:
        """A value an expression computed from a secret: masked like the secret itself."""
        self.derived.add(value)

    def masked_values(self) -> set[str]:
        """Every value a masker built from this resolver must hide."""
        return {value for value in self.used.values() if value} | self.derived

    def __call__(self, ref: str) -> str:
        """For expressions (`<+secrets.getValue("id")>`): LookupError when there is no such
        secret, ExpressionError saying why when its value cannot be read."""
        self._check_scope(ref)
        if self.project.secret(ref) is None:
            raise LookupError(ref)
        try:
            return self.value(ref)
        except MissingSecretValue as error:  # missing_value_cause finds it again
            raise ExpressionError(str(error.problems[0])) from error
        except ConfigError as error:
            raise ExpressionError("; ".join(str(p) for p in error.problems)) from None

    def _check_scope(self, ref: str) -> None:
        if self.allowed is None or strip_scope(ref) in self.allowed:
            return
        raise ExpressionError(
            f"secret '{strip_scope(ref)}' is not referenced by this pipeline, its stages' services, "
            "environments, infrastructure or manifests: a run reads only the secrets they name "
            f'(as <+secrets.getValue("{strip_scope(ref)}")>)'
        )

    def value(self, ref: str) -> str:
        """The value of secret `ref`; ConfigError naming the secret's file when it cannot be read."""
        identifier = strip_scope(ref)
        if identifier in self.used:
            return self.used[identifier]
        try:
            self._check_scope(identifier)
        except ExpressionError as error:
            raise ConfigError([Problem("", f"secrets.getValue({ref!r})", error.detail)]) from None
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
        if spec.exported_without_value:
            raise MissingSecretValue([missing_value_problem(self.project, secret)])
        refused = refused_manager(self.project, secret)
        if refused is not None:
            raise ConfigError(
                [Problem(secret.where(("secret", "spec", "secretManagerIdentifier")), MANAGER_PATH, refused)]
            )
        value = spec.value
        if value is None:  # the model requires a value for these managers
            raise self._problem(secret, "required field is missing")
        if spec.manager == ENV_MANAGER:
            if value not in self.environ:
                raise self._problem(secret, f"environment variable {value} is not set")
            return self.environ[value]
        if spec.manager == FILE_MANAGER:
            path = Path(value).expanduser()
            path = path if path.is_absolute() else self.project.root / path
            try:
                return path.read_text(encoding="utf-8").rstrip("\n")
            except OSError as error:
                raise self._problem(secret, f"cannot read secret file {path}: {error.strerror}") from None
        if spec.manager == CORRAL_MANAGER:
            return decrypt(self.project, value, secret=secret)
        raise self._problem(secret, f"unknown secret manager {spec.secret_manager_identifier}")

    def _problem(self, secret: Secret, message: str) -> ConfigError:
        return ConfigError([Problem(secret.where(("secret", "spec", "value")), VALUE_PATH, message)])


def project_key(project: Project, *, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The Fernet key that encrypts the project's values: its data key when corral.yaml names
    one (unwrapped with the key below), else the key from the configured environment
    variable, else the key file; None if there is none."""
    key = wrapping_key(project, environ)
    data_key_file = project.settings.data_key_file(project.root)
    if data_key_file is None or key is None:
        return key
    if not data_key_file.is_file():
        return None
    return unwrap_data_key(key, data_key_file.read_bytes(), source=str(data_key_file))


def wrapping_key(project: Project, environ: Mapping[str, str] | None) -> bytes | None:
    environ = os.environ if environ is None else environ
    settings = project.settings.project.secrets
    if environ.get(settings.key_env):
        return environ[settings.key_env].strip().encode()
    key_file = project.settings.key_file(project.root)
    if key_file.is_file():
        return key_file.read_bytes().strip()
    return None


def unwrap_data_key(key: bytes, wrapped: bytes, *, source: str) -> bytes:
    from cryptography.fernet import Fernet, InvalidToken

    try:
        return Fernet(key).decrypt(wrapped.strip())
    except (InvalidToken, ValueError):
        raise ConfigError(
            [Problem(source, "", "the project's data key does not open with the server's key")]
        ) from None


def ensure_data_key(key: bytes, path: Path) -> bytes:
    """The data key kept (wrapped with key) at path, made (mode 600) when there is none."""
    from cryptography.fernet import Fernet

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data_key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made by another thread just now
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet(key).encrypt(data_key) + b"\n")
            return data_key
    return unwrap_data_key(key, path.read_bytes(), source=str(path))


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
        wrapping = wrapping_key(project, environ) or create_key(project).read_bytes().strip()
        data_key_file = project.settings.data_key_file(project.root)
        key = wrapping if data_key_file is None else ensure_data_key(wrapping, data_key_file)
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
