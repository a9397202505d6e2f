"""Bounds on every YAML text Corral reads (projects, manifests, uploads, inputs files).

PyYAML shares one object for an anchor and all its aliases, so a "billion laughs" document
loads quickly and then hangs whatever walks it (validation, rendering, JSON); a very deep
`[[[[...` crashes the C composer outright. So before a text is composed, one pass over its
parser events measures what the document would be once every alias is expanded; a text over
a limit gets one error naming the file and the limit, and is never composed.

    MAX_YAML_CHARS   characters in one file or upload
    MAX_DEPTH        nesting of mappings and sequences (aliases expanded)
    MAX_ALIASES      uses of `*anchor` (merge keys `<<: *a` included) in one document
    MAX_NODES        scalars, mappings and sequences of one file with aliases expanded
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

try:  # the C parser is several times faster on big projects
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

MAX_YAML_CHARS = 4 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIASES = 1_000
MAX_NODES = 1_000_000


@dataclass(frozen=True)
class Exceeded:
    """Which limit a text goes over, and where (1-based line, 0 when unknown)."""

    message: str
    line: int = 0


def yaml_limit_exceeded(text: str) -> Exceeded | None:
    """The first limit text goes over, or None. Syntax errors are left to the real parse."""
    if len(text) > MAX_YAML_CHARS:
        return Exceeded(
            f"the YAML text is {len(text):,} characters; the limit is {MAX_YAML_CHARS:,} (MAX_YAML_CHARS)"
        )
    loader = _EventLoader(text)
    try:
        return _measure(loader)
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


@dataclass
class _Open:
    """A mapping or sequence being read: its anchor, what it holds (aliases expanded)."""

    anchor: str | None
    nodes: int = 0
    depth: int = 0


def _measure(loader: _EventLoader) -> Exceeded | None:
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, expanded depth)
    stack: list[_Open] = []
    total = aliases = 0
    while loader.check_event():
        event = loader.get_event()
        if event is None:  # check_event said there is one
            break
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.DocumentStartEvent):  # anchors belong to one document
            sizes.clear()
            aliases = 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) + 1 > MAX_DEPTH:
                return Exceeded(f"nesting deeper than {MAX_DEPTH} levels (MAX_DEPTH)", line)
            stack.append(_Open(event.anchor))
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            closed = stack.pop()
            own, nodes, depth = 1, closed.nodes + 1, closed.depth + 1
            if closed.anchor:
                sizes[closed.anchor] = (nodes, depth)
        elif isinstance(event, yaml.ScalarEvent):
            own, nodes, depth = 1, 1, 0
            if event.anchor:
                sizes[event.anchor] = (1, 0)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                return Exceeded(f"more than {MAX_ALIASES:,} alias uses (*anchor) (MAX_ALIASES)", line)
            if any(frame.anchor == event.anchor for frame in stack):
                return Exceeded(f"alias *{event.anchor} is used inside its own anchor (recursive)", line)
            nodes, depth = sizes.get(str(event.anchor), (1, 0))
            own = nodes
        else:
            continue
        total += own
        if total > MAX_NODES:
            shown = f"; {aliases:,} alias uses" if aliases else ""
            return Exceeded(
                f"more than {MAX_NODES:,} values once aliases are expanded (MAX_NODES){shown}", line
            )
        if stack:
            stack[-1].nodes += nodes
            stack[-1].depth = max(stack[-1].depth, depth)
            if len(stack) + depth > MAX_DEPTH:
                return Exceeded(f"nesting deeper than {MAX_DEPTH} levels (MAX_DEPTH)", line)
    return None
