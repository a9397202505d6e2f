"""Read project YAML: documents with line numbers, duplicate keys and syntax errors reported.

PyYAML keeps the last of two equal keys without a word; here that is a problem, since in
Harness YAML it is almost always a paste mistake. A problem's YAML path is turned back into a
line number from the document's node tree, composed again from the file's text when asked: a
loaded project keeps its files' text, not their trees (several times bigger, one per service).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from corral.errors import Problem, format_path
from corral.yaml_limits import yaml_limit_exceeded

try:  # the C parser is several times faster on big projects
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


@dataclass
class Document:
    """One YAML document of a file: its data, where it starts, and the file's text (shared by
    its documents) to compose its node tree from when a line is asked for."""

    file: str
    index: int
    data: Any
    line: int
    text: str = field(repr=False, compare=False)
    # the line of each top-level key, which loading asks for every entity (its kind)
    key_lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def tree(self) -> yaml.Node | None:
        """The document's node tree, composed from the text (the last few kept, not one per
        document: every service's render asks for the lines of its inputs)."""
        return _tree_of(self.text, self.index)

    def line_of(self, parts: tuple[str | int, ...]) -> int:
        """The line (1-based) of the deepest node reachable along parts; for a mapping
        entry, the line of its key (where `unknown field` or `required` points)."""
        if len(parts) == 1 and parts[0] in self.key_lines:
            return self.key_lines[str(parts[0])]
        node = self.tree() if parts else None
        line = self.line
        for part in parts:
            if node is None:
                break
            key, node = _entry(node, part)
            if key is not None:
                line = key.start_mark.line + 1
            elif node is not None:
                line = node.start_mark.line + 1
        return line


@dataclass
class YamlFile:
    file: str
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _entry(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(key node, value node) of a mapping entry, or (None, item) of a sequence item."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None, None


def syntax_problem(file: str, error: yaml.YAMLError) -> Problem:
    """`file:LINE: ...: the parser's complaint`, lines and columns 1-based."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    text = f"{context}, {problem}" if context else str(problem)
    if mark is None:
        return Problem(file, "", f"malformed YAML: {text}")
    return Problem(f"{file}:{mark.line + 1}", "", f"malformed YAML (column {mark.column + 1}): {text}")


def read_yaml(file: str, text: str) -> YamlFile:
    """Every document of text, or the syntax problem that stops the parser (or the limit of
    corral.yaml_limits it goes over: such a text is never composed)."""
    result = YamlFile(file)
    exceeded = yaml_limit_exceeded(text)
    if exceeded is not None:
        where = f"{file}:{exceeded.line}" if exceeded.line else file
        result.problems.append(Problem(where, "", f"YAML refused: {exceeded.message}"))
        return result
    loader = _BaseLoader(text)
    try:
        for index, node in enumerate(_composed(loader)):
            result.problems += _duplicate_keys(file, node)
            data = loader.construct_document(node)
            # the tree is not kept: Document.tree composes it again if a line is asked for
            line = node.start_mark.line + 1
            result.documents.append(Document(file, index, data, line, text, _key_lines(node)))
    except yaml.YAMLError as error:
        result.problems.append(syntax_problem(file, error))
    finally:
        loader.dispose()
    return result


def _key_lines(node: yaml.Node) -> dict[str, int]:
    """The line of each key of a mapping node (the first of two equal keys, as _entry finds)."""
    found: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                found.setdefault(key.value, key.start_mark.line + 1)
    return found


def _composed(loader: Any) -> Iterator[yaml.Node]:
    """The node tree of each document the loader reads, in order."""
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node


@lru_cache(maxsize=8)
def _tree_of(text: str, index: int) -> yaml.Node | None:
    """The node tree of document `index` of a text read_yaml read without error, again."""
    loader = _BaseLoader(text)
    try:
        for found, node in enumerate(_composed(loader)):
            if found == index:
                return node
    finally:
        loader.dispose()
    return None


def _duplicate_keys(file: str, root: yaml.Node) -> list[Problem]:
    problems: list[Problem] = []
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    seen_nodes: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # anchors and aliases share nodes
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys and key.value != "<<":
                        where = format_path((*path, key.value))
                        problems.append(
                            Problem(
                                f"{file}:{key.start_mark.line + 1}",
                                where,
                                "duplicate key: this mapping already has it",
                            )
                        )
                    keys.add(key.value)
                    stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, (*path, index)))
    return problems


def load_text(text: str) -> Any:
    """Plain data from a YAML (or JSON) text; raises yaml.YAMLError (also over a limit)."""
    exceeded = yaml_limit_exceeded(text)
    if exceeded is not None:
        raise yaml.YAMLError(f"YAML refused: {exceeded.message}")
    return yaml.load(text, Loader=_BaseLoader)
