"""Parse manifest text, fast and once.

Validation renders each manifest once per infrastructure; the same text is parsed once
(cached, handed out as copies). YAML goes through libyaml's C parser when it is clean; any
trouble (a syntax error, a duplicate key, not exactly one document, JSON) goes to
corral.manifests.parse_manifest, whose messages are the ones users see.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from corral.config.yaml_source import read_yaml
from corral.manifests.manifest_file import ManifestFile
from corral.manifests.parsing import parse_manifest


def parse_manifest_text(source: str, text: str) -> Any:
    """The document in text; ConfigError (from parse_manifest) when it does not parse."""
    return copy.deepcopy(_parsed(source, text))


@lru_cache(maxsize=4096)
def _parsed(source: str, text: str) -> Any:
    fast = None if source.lower().endswith(".json") else _clean_yaml(source, text)
    return fast if fast is not None else parse_manifest(ManifestFile(source, text))


def _clean_yaml(source: str, text: str) -> Any:
    if text.lstrip()[:1] in ("{", "["):
        return None  # parse_manifest reads these as JSON first, for JSON's error positions
    parsed = read_yaml(source, text)
    documents = [d for d in parsed.documents if d.data is not None]
    if parsed.problems or len(documents) != 1:
        return None
    return documents[0].data
