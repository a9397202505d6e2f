"""The projects the server holds: one folder of YAML per project, edited through the API.

    <projects dir>/<name>/corral.yaml                  name, the server's key, the project's
                                                       data key and the allowed secret managers
    <projects dir>/<name>/<kind>/<identifier>.yaml     entities uploaded through the API
    <projects dir>/<name>/...                          or the tree of a Git repository (sync)

Every change is made in a copy first and the copy is loaded as `corral validate` would; only a
change that leaves the project without problems replaces the folder's files, so a project on
the server always loads. Secrets created through the API are `secretManagerIdentifier: corral`
documents whose value is a Fernet token made with the project's own data key (never the plain
value); that key is kept outside the project, wrapped with the server's key. Secrets whose
manager the server refuses (`file`, `env`, unless its operator allows them) are refused, and so
are connectors that name them.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from corral.config.entities.common import IDENTIFIER_RE, strip_scope
from corral.config.entities.connector import connector_secret_refs
from corral.config.entities.secret import CORRAL_MANAGER
from corral.config.project import KINDS, Project, load_project, read_project
from corral.config.settings import DEFAULT_KEY_ENV, SETTINGS_FILE, STATE_DIR
from corral.config.yaml_source import read_yaml
from corral.errors import ConfigError, CorralError, Problem

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SERVER_SECRETS_DIR = "secrets"


class NotFound(CorralError):
    """No such project or entity (404)."""


class Conflict(CorralError):
    """The project or entity exists already (409)."""


class Refused(ConfigError):
    """A write the server will not make because of a name that would become part of a file
    path: not an identifier, or a path that leaves the project's folder (422, audited)."""


IDENTIFIER_RULE = "expected letters, digits, '_' or '$', not starting with a digit, at most 128"
# a template's versionLabel names its file on the server: Harness's label rule without / & or spaces
VERSION_LABEL_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")
VERSION_LABEL_RULE = "expected letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64"


@dataclass(frozen=True)
class EntityInfo:
    kind: str
    identifier: str
    name: str
    file: str
    scope: str | None  # the environment of an infrastructure, the pipeline of an input set


@dataclass(frozen=True)
class Document:
    """One entity document given to the server: its kind, identifier and the data."""

    kind: str
    identifier: str
    scope: str | None
    data: dict[str, Any]


class ProjectFiles:
    def __init__(
        self,
        root: Path,
        *,
        key_file: Path,
        key_env: str = DEFAULT_KEY_ENV,
        data_keys: Path | None = None,
        managers: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.key_file = key_file
        self.key_env = key_env
        self.data_keys = data_keys or key_file.parent / "project-keys"
        unknown = set(managers) - {CORRAL_MANAGER, "env", "file"}
        if unknown:
            raise CorralError(f"unknown secret manager {', '.join(sorted(unknown))}; expected file or env")
        self.managers = [CORRAL_MANAGER, *sorted(set(managers) - {CORRAL_MANAGER})]
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)

    # -- projects --------------------------------------------------------------------------

    def folder(self, name: str) -> Path:
        if not NAME_RE.match(name):
            raise NotFound(f"no project {name!r}")
        return _confined(self.root, name, "name")

    def exists(self, name: str) -> bool:
        return NAME_RE.match(name) is not None and (self.root / name / SETTINGS_FILE).is_file()

    def names(self) -> list[str]:
        return sorted(
            p.name for p in self.root.iterdir() if NAME_RE.match(p.name) and (p / SETTINGS_FILE).is_file()
        )

    def create(self, name: str, text: str = "", *, local_git: bool = False) -> Project:
        """A new project from YAML documents (maybe none); ConfigError lists their problems.
        local_git: the caller may add Git connectors whose URL is a path on this machine."""
        _check_project_name(name)
        with self._locked(name):
            if self.exists(name):
                raise Conflict(f"project {name} exists already")
            documents = parse_documents(text)
            with self._staging(name, None) as staging:
                for document in documents:
                    _write_document(staging, document)
                return self._commit(name, staging, local_git=local_git)

    def load(self, name: str) -> Project:
        if not self.exists(name):
            raise NotFound(f"no project {name!r}")
        project = load_project(self.root / name)
        if project.name != name:
            # a folder copied in while the server runs keeps its own `project.name` until the next
            # start (prepare) or write; the server keys executions, trigger polls and tags by the
            # folder's name, so the project must answer to it or its views come back empty
            project.settings.project.name = name
        return project

    def delete(self, name: str) -> None:
        with self._locked(name):
            if not self.exists(name):
                raise NotFound(f"no project {name!r}")
            shutil.rmtree(self.root / name)
            self.data_key_file(name).unlink(missing_ok=True)  # a project made again gets a new key

    def data_key_file(self, name: str) -> Path:
        return self.data_keys / f"{name}.key"

    def prepare(self) -> None:
        """Bring every project up to this server: corral.yaml names its data key and the allowed
        managers, and values encrypted with the server's key itself (before data keys) are
        encrypted again with the project's data key."""
        for name in self.names():
            with self._locked(name):
                folder = self.root / name
                self._write_settings(folder, name)
                try:
                    project = load_project(folder)
                except CorralError:
                    continue  # its problems show when it is used; the server still starts
                _reencrypt(project)

    # -- entities --------------------------------------------------------------------------

    def entities(self, name: str, kind: str | None = None) -> list[EntityInfo]:
        project = self.load(name)
        return [_info(k, entity) for k, entity in project.entities() if kind is None or k == kind]

    def entity(
        self, name: str, kind: str, identifier: str, scope: str | None = None
    ) -> tuple[EntityInfo, dict[str, Any]]:
        """An entity and its document as written (a corral secret's value replaced; a pipeline's
        template uses as written, not resolved)."""
        project = self.load(name)
        entity = _find(project, kind, identifier, scope)
        data = dict(entity.written)
        if kind == "secret":
            data = _redacted(data)
        return _info(kind, entity), data

    def put(self, name: str, text: str, *, local_git: bool = False) -> list[EntityInfo]:
        """Add or replace the entities of the YAML documents (local_git: as for create)."""
        documents = parse_documents(text)
        if not documents:
            raise ConfigError(
                [Problem("yaml", "", "no entity document (service:, environment:, pipeline:, ...)")]
            )
        with self._locked(name):
            if not self.exists(name):
                raise NotFound(f"no project {name!r}")
            with self._staging(name, self.root / name) as staging:
                for document in documents:
                    _remove_document(staging, document.kind, document.identifier, document.scope)
                    _write_document(staging, document)
                project = self._commit(name, staging, local_git=local_git)
        return [_info(d.kind, _find(project, d.kind, d.identifier, d.scope)) for d in documents]

    def remove(self, name: str, kind: str, identifier: str, scope: str | None = None) -> None:
        with self._locked(name):
            project = self.load(name)
            _find(project, kind, identifier, scope)
            with self._staging(name, self.root / name) as staging:
                _remove_document(staging, kind, identifier, scope)
                self._commit(name, staging)

    def put_secret(self, name: str, identifier: str, value: str, *, display: str | None = None) -> EntityInfo:
        """Create or replace a corral secret: the value is encrypted with the server's key."""
        from corral.config.secrets import encrypt
        from corral.expressions.masking import MIN_SECRET_LENGTH, short_secret

        if not IDENTIFIER_RE.match(identifier):
            raise Refused([Problem("secret", "identifier", f"{_shown(identifier)}: {IDENTIFIER_RULE}")])
        if 0 < len(value) < MIN_SECRET_LENGTH:  # could not be masked without an oracle
            raise ConfigError([Problem("secret", "value", short_secret(identifier, len(value)))])
        project = self.load(name)
        document = {
            "secret": {
                "identifier": identifier,
                "name": display or identifier,
                "type": "SecretText",
                "spec": {
                    "secretManagerIdentifier": "corral",
                    "valueType": "Inline",
                    "value": encrypt(project, value),
                },
            }
        }
        return self.put(name, yaml.safe_dump(document, sort_keys=False))[0]

    # -- Git -------------------------------------------------------------------------------

    def sync(self, name: str, url: str, ref: str, *, cache_dir: Path, local_git: bool = False) -> Project:
        """Replace the project's files by the tree of the repository at ref (a branch, tag or
        commit); secrets made through the API are kept. Creates the project if needed."""
        _check_project_name(name)
        store, files = _fetch_tree(url, ref, cache_dir)
        prefix = f"git:{store.shown}@{ref}:"
        relatives = [
            (file.source[len(prefix) :] if file.source.startswith(prefix) else file.source, file)
            for file in files
        ]
        # .corral/ holds the server's state of the project (never scanned as entities either)
        relatives = [(relative, file) for relative, file in relatives if relative.split("/")[0] != STATE_DIR]
        problems = [p for relative, _ in relatives if (p := _repository_path_problem(relative))]
        if problems:
            raise Refused(problems)
        with self._locked(name):
            current = self.root / name if self.exists(name) else None
            with self._staging(name, None) as staging:
                if current is not None and (current / SERVER_SECRETS_DIR).is_dir():
                    shutil.copytree(
                        current / SERVER_SECRETS_DIR, staging / SERVER_SECRETS_DIR, dirs_exist_ok=True
                    )
                for relative, file in relatives:
                    target = _confined(staging, relative, "file")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(file.text, encoding="utf-8")
                return self._commit(name, staging, local_git=local_git)

    # -- helpers ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            yield

    @contextmanager
    def _staging(self, name: str, source: Path | None) -> Iterator[Path]:
        _check_project_name(name)
        with tempfile.TemporaryDirectory(prefix=f".staging-{name}-", dir=self.root) as folder:
            staging = _confined(Path(folder), name, "name")
            if source is not None:
                shutil.copytree(source, staging, ignore=shutil.ignore_patterns(STATE_DIR))
            else:
                staging.mkdir()
            yield staging

    def _commit(self, name: str, staging: Path, *, local_git: bool = False) -> Project:
        """Check the staged project and, when it has no problem, make it the project."""
        self._write_settings(staging, name)
        staged, problems = read_project(staging)
        if problems:
            raise ConfigError(problems)
        current = self._current(name)
        problems = _refused_managers(staged, current)
        if problems:
            raise ConfigError(problems)
        target = _confined(self.root, name, "name")
        if not local_git:
            _refuse_new_local_git(staged, current)
        if target.exists():
            state = target / STATE_DIR
            if state.exists():
                shutil.move(str(state), str(staging / STATE_DIR))
            old = target.with_name(f".old-{name}")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
        return load_project(target)

    def _current(self, name: str) -> Project | None:
        try:
            return load_project(self.root / name) if self.exists(name) else None
        except CorralError:
            return None

    def _write_settings(self, folder: Path, name: str) -> None:
        """corral.yaml names the project as the server does and points at the server's key."""
        path = folder / SETTINGS_FILE
        data: dict[str, Any] = {}
        if path.is_file():
            parsed = read_yaml(SETTINGS_FILE, path.read_text(encoding="utf-8"))
            if parsed.documents and isinstance(parsed.documents[0].data, dict):
                data = parsed.documents[0].data
        body = data.setdefault("project", {})
        if not isinstance(body, dict):
            body = data["project"] = {}
        body["name"] = name
        body.pop("store", None)  # the server's store holds every project's executions
        body["secrets"] = {
            "keyEnv": self.key_env,
            "keyFile": str(self.key_file),
            "dataKeyFile": str(self.data_key_file(name)),
            "managers": list(self.managers),
        }
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _refuse_new_local_git(staged: Project, current: Project | None) -> None:
    """A Git connector that reads a repository on the server's disk (a path, file://) may be
    added only by a global admin: it could read other projects' mirrors. Ones already in the
    project, unchanged, stay."""
    from .git_sources import is_local

    urls = {identifier: _git_url(connector) for identifier, connector in staged.connectors.items()}
    new = {identifier: url for identifier, url in urls.items() if url is not None and is_local(url)}
    before = current.connectors if current is not None else {}
    problems = [
        Problem(
            staged.connectors[identifier].where(("connector", "spec", "url")),
            "connector.spec.url",
            f"{_shown(url)}: a local path or file:// repository reads the server's own disk; "
            "only a global admin may add one",
        )
        for identifier, url in new.items()
        if identifier not in before or _git_url(before[identifier]) != url
    ]
    if problems:
        raise Refused(problems)


def _git_url(connector: Any) -> str | None:
    """The repository URL of a Git or Github connector, None for other connectors."""
    if getattr(connector, "type", None) not in ("Git", "Github"):
        return None
    return str(connector.spec.url)


def _fetch_tree(url: str, ref: str, cache_dir: Path) -> tuple[Any, list[Any]]:
    """The store and every manifest-named file of the repository at ref (a branch, tag or
    commit); whatever goes wrong is a ConfigError naming the repository (422, never a 500)."""
    from corral.manifests.git_store import GitStore, without_credentials

    shown = f"git:{without_credentials(url)}@{ref}"
    try:
        if re.fullmatch(r"[0-9a-f]{7,40}", ref):
            store = GitStore(url, cache_dir=cache_dir, commit=ref)
            return store, store.fetch([""])
        store = GitStore(url, cache_dir=cache_dir, branch=ref)
        try:
            return store, store.fetch([""])
        except ConfigError as error:
            try:  # not a branch: maybe a tag
                return store, GitStore(url, cache_dir=cache_dir, tag=ref).fetch([""])
            except ConfigError:
                raise error from None
    except ConfigError:
        raise
    except CorralError as error:
        raise ConfigError([Problem(shown, "url", str(error))]) from None
    except Exception as error:  # dulwich on a strange repository: an answer, never a crash
        reason = str(error).replace(url, without_credentials(url))
        message = f"cannot read the repository: {type(error).__name__}: {reason}"
        raise ConfigError([Problem(shown, "url", message)]) from None


def _refused_managers(project: Project, current: Project | None) -> list[Problem]:
    """Secrets whose manager the server refuses, and connectors that name such a secret; those
    already there unchanged are left to fail when used, so the project can still be mended."""
    from corral.config.connections import refused_token_source
    from corral.config.entities.connector import AwsConnector
    from corral.config.secrets import MANAGER_PATH, refused_manager

    def changed(kind: str, entity: Any) -> bool:
        entities = getattr(current, kind, {}) if current is not None else {}
        before = entities.get(entity.identifier)
        return before is None or before.raw != entity.raw

    problems = []
    for secret in project.secrets.values():
        refused = refused_manager(project, secret)
        if refused is not None and changed("secrets", secret):
            where = secret.where(("secret", "spec", "secretManagerIdentifier"))
            problems.append(Problem(where, MANAGER_PATH, refused))
    for connector in project.connectors.values():
        for path, ref in connector_secret_refs(connector):
            used = project.secret(ref)
            refused = refused_manager(project, used) if used is not None else None
            if refused is not None and (changed("connectors", connector) or changed("secrets", used)):
                where = connector.where(("connector", "spec", *path.split(".")))
                problems.append(Problem(where, f"connector.spec.{path}", f"secret '{ref}': {refused}"))
        token_refused = (
            refused_token_source(project, connector) if isinstance(connector, AwsConnector) else None
        )
        if token_refused is not None and changed("connectors", connector):
            problems.append(token_refused)
    return problems


def _reencrypt(project: Project) -> None:
    """Encrypt again, with the project's data key, the values only the server's key opens."""
    from cryptography.fernet import Fernet, InvalidToken

    from corral.config.secrets import ensure_data_key, wrapping_key

    server_key = wrapping_key(project, None)
    data_key_file = project.settings.data_key_file(project.root)
    if server_key is None or data_key_file is None:
        return
    data_key = ensure_data_key(server_key, data_key_file)
    for secret in project.secrets.values():
        if (
            secret.spec.manager != CORRAL_MANAGER
            or secret.spec.value is None
            or secret.spec.exported_without_value
        ):
            continue
        token = secret.spec.value
        try:
            Fernet(data_key).decrypt(token.encode())
            continue
        except (InvalidToken, ValueError):
            pass
        try:
            plain = Fernet(server_key).decrypt(token.encode())
        except (InvalidToken, ValueError):
            continue  # not ours to fix: decrypt reports it when the secret is used
        path = project.root / secret.file
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(token, Fernet(data_key).encrypt(plain).decode()), encoding="utf-8")


def parse_documents(text: str, file: str = "yaml") -> list[Document]:
    """The entity documents of a YAML text; ConfigError for syntax errors and non-entities."""
    parsed = read_yaml(file, text)
    if parsed.problems:
        raise ConfigError(parsed.problems)
    documents: list[Document] = []
    problems: list[Problem] = []
    refused: list[Problem] = []
    for index, document in enumerate(parsed.documents):
        data = document.data
        if data is None:
            continue
        where = f"{file}:{document.line_of(())}"
        kinds = [k for k in data if k in KINDS] if isinstance(data, dict) else []
        if len(kinds) != 1 or len(data) != 1:
            problems.append(
                Problem(where, f"documents[{index}]", f"expected one entity: one of {', '.join(KINDS)}")
            )
            continue
        kind = kinds[0]
        body = data[kind]
        identifier = body.get("identifier") if isinstance(body, dict) else None
        if not isinstance(identifier, str) or not IDENTIFIER_RE.match(identifier):
            refused.append(Problem(where, f"{kind}.identifier", f"{_shown(identifier)}: {IDENTIFIER_RULE}"))
            continue
        scope_path, scope = _scope_of(kind, body)
        if scope and not _scope_name_ok(kind, scope):
            # the scope names the file (infrastructureDefinition/<env>.<id>.yaml): an identifier only
            rule = VERSION_LABEL_RULE if kind == "template" else IDENTIFIER_RULE
            refused.append(Problem(where, f"{kind}.{scope_path}", f"{_shown(scope)}: {rule}"))
            continue
        documents.append(Document(kind, identifier, scope, data))
    if refused:
        raise Refused(refused + problems)
    if problems:
        raise ConfigError(problems)
    return documents


def _scope_of(kind: str, body: dict[str, Any]) -> tuple[str, str | None]:
    """(the path of the field naming the scope, its value) of an entity document."""
    if kind == "infrastructureDefinition":
        return "environmentRef", _text(body.get("environmentRef"))
    if kind == "inputSet":
        pipeline = body.get("pipeline")
        return "pipeline.identifier", _text(pipeline.get("identifier")) if isinstance(pipeline, dict) else ""
    if kind == "template":  # several versions of one template side by side
        return "versionLabel", _text(body.get("versionLabel"))
    return "", None


def _scope_name_ok(kind: str, scope: str) -> bool:
    """The scope names the file (infrastructureDefinition/<env>.<id>.yaml,
    template/<id>_<versionLabel>.yaml): an identifier, or for a template a plain version label."""
    if kind == "template":
        return VERSION_LABEL_RE.match(scope) is not None
    return IDENTIFIER_RE.match(strip_scope(scope)) is not None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _shown(value: object) -> str:
    """A refused name as an error message shows it: quoted, control characters escaped, cut."""
    text = repr(value) if isinstance(value, str) else f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _check_project_name(name: str) -> None:
    if not NAME_RE.match(name):
        rule = "expected letters, digits, '_', '-' or '.', at most 64, not starting with a symbol"
        raise Refused([Problem("name", "", f"{_shown(name)}: {rule}")])


def _confined(folder: Path, relative: str, what: str) -> Path:
    """folder/relative, resolved, when it stays inside folder; Refused otherwise."""
    root = folder.resolve()
    try:
        target = (root / relative).resolve()
    except (OSError, ValueError) as error:
        raise Refused([Problem(what, "", f"{_shown(relative)}: not a usable file name ({error})")]) from None
    if target == root or not target.is_relative_to(root):
        raise Refused([Problem(what, "", f"{_shown(relative)}: would leave the project's folder")])
    return target


def _repository_path_problem(relative: str) -> Problem | None:
    """Why a file of a synced repository may not be written into the project, if it may not."""
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in relative:
        return Problem(f"git:{relative}", "", "a repository path with '..', '.' or '\\' is refused")
    if "\x00" in relative or len(relative) > 1024:
        return Problem(f"git:{_shown(relative)}", "", "not a usable file name")
    return None


def _file_of(kind: str, identifier: str, scope: str | None) -> str:
    if not IDENTIFIER_RE.match(identifier) or (scope and not _scope_name_ok(kind, scope)):
        raise Refused([Problem(kind, "identifier", f"{_shown(identifier)}: {IDENTIFIER_RULE}")])
    if kind == "secret":
        return f"{SERVER_SECRETS_DIR}/{identifier}.yaml"
    stem = f"{strip_scope(scope)}.{identifier}" if scope else identifier
    if kind == "template" and scope:
        stem = f"{identifier}_{scope}"  # Harness's own file name for a template version
    return f"{kind}/{stem}.yaml"


def _write_document(folder: Path, document: Document) -> None:
    path = _confined(folder, _file_of(document.kind, document.identifier, document.scope), "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document.data, sort_keys=False), encoding="utf-8")


def _remove_document(folder: Path, kind: str, identifier: str, scope: str | None) -> None:
    """Take the entity out of whichever file holds it (other documents of that file stay)."""
    project, _ = read_project(folder)
    try:
        entity = _find(project, kind, identifier, scope)
    except NotFound:
        return
    path = folder / entity.file
    parsed = read_yaml(entity.file, path.read_text(encoding="utf-8"))
    rest = [
        d.data
        for d in parsed.documents
        if d.data is not None
        and not (isinstance(d.data, dict) and d.line_of((kind,)) == entity.line and kind in d.data)
    ]
    if rest:
        path.write_text(yaml.safe_dump_all(rest, sort_keys=False), encoding="utf-8")
    else:
        path.unlink()


def _find(project: Project, kind: str, identifier: str, scope: str | None) -> Any:
    if kind not in KINDS:
        raise NotFound(f"no entity kind {kind!r}; expected one of {', '.join(KINDS)}")
    matches = [
        entity
        for k, entity in project.entities()
        if k == kind
        and entity.identifier == identifier
        and (scope is None or _entity_scope(k, entity) == scope)
    ]
    if not matches:
        raise NotFound(f"no {kind} {identifier!r} in project {project.name}")
    if len(matches) > 1:
        scopes = ", ".join(sorted(str(_entity_scope(kind, e)) for e in matches))
        raise ConfigError(
            [Problem(kind, "scope", f"several {kind} entities are named {identifier} ({scopes}); give scope")]
        )
    return matches[0]


def _entity_scope(kind: str, entity: Any) -> str | None:
    if kind == "infrastructureDefinition":
        return str(entity.environment_ref)
    if kind == "inputSet":
        return str(entity.pipeline.identifier)
    if kind == "template":
        return str(entity.version_label)
    return None


def _info(kind: str, entity: Any) -> EntityInfo:
    return EntityInfo(kind, entity.identifier, entity.name, entity.file, _entity_scope(kind, entity))


def _redacted(data: dict[str, Any]) -> dict[str, Any]:
    """A secret document without its value when the value is the secret itself (encrypted)."""
    body = dict(data.get("secret") or {})
    spec = dict(body.get("spec") or {})
    if spec.get("secretManagerIdentifier", "env") in ("corral", "harnessSecretManager"):
        spec["value"] = "<encrypted>"
    body["spec"] = spec
    return {"secret": body}
