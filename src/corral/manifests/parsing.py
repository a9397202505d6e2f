"""Read a manifest's text as JSON or YAML; a syntax error names the file, line and column.

A `.json` file is read as strict JSON. Anything else is read as YAML, except that text
starting with `{` or `[` is tried as JSON first (so the seeds' JSON examples give JSON's
exact error positions). Duplicate keys are errors in both, and so is an empty file or a
YAML file holding more than one document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark
from yaml.nodes import MappingNode

from corral.errors import ConfigError, Problem
from corral.manifests.manifest_file import ManifestFile
from corral.yaml_limits import yaml_limit_exceeded


def parse_manifest(f: ManifestFile) -> Any:
    """The document in one manifest file; ConfigError on bad syntax."""
    if not f.text.strip():
        raise _error(f, "", "the file is empty; expected a JSON or YAML manifest")
    exceeded = yaml_limit_exceeded(f.text)
    if exceeded is not None:
        where = f"line {exceeded.line}" if exceeded.line else ""
        raise _error(f, where, f"manifest refused: {exceeded.message}")
    if f.source.lower().endswith(".json"):
        return _parse_json(f)
    if f.text.lstrip()[:1] in ("{", "["):
        try:
            return _parse_json(f)
        except ConfigError:
            pass  # not strict JSON; YAML is a superset and may still read it
    return _parse_yaml(f)


def _parse_json(f: ManifestFile) -> Any:
    try:
        return json.loads(f.text, object_pairs_hook=_no_duplicates(f))
    except json.JSONDecodeError as exc:
        raise _error(f, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    except RecursionError:  # JSON that is not YAML escapes the nesting check
        raise _error(f, "", "invalid JSON: nested too deeply") from None


def _no_duplicates(f: ManifestFile) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise _error(f, "", f"invalid JSON: key '{key}' appears twice in one object")
            out[key] = value
        return out

    return build


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue  # complex keys are rejected later by the shape check
            if key in seen:
                message = f"key '{key}' appears twice in one mapping"
                raise ConstructorError(None, None, message, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(f: ManifestFile) -> Any:
    try:
        documents = [d for d in yaml.load_all(f.text, Loader=_StrictLoader) if d is not None]
    except yaml.MarkedYAMLError as exc:
        raise _error(f, _where(exc.problem_mark or exc.context_mark), _yaml_message(exc)) from None
    except yaml.YAMLError as exc:
        raise _error(f, "", f"invalid YAML: {exc}") from None
    if not documents:
        raise _error(f, "", "the file holds no document; expected a JSON or YAML manifest")
    if len(documents) > 1:
        raise _error(f, "", f"the file holds {len(documents)} YAML documents; expected one manifest")
    return documents[0]


def _where(mark: Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.context and exc.problem and exc.context_mark:
        message += f" ({exc.context} at {_where(exc.context_mark)})"
    return message


def _error(f: ManifestFile, where: str, message: str) -> ConfigError:
    return ConfigError([Problem(file=f.source, path=where, message=message)])
