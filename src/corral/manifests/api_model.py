"""The AWS request shapes, read straight from the service models botocore ships.

`import botocore.session` (or even `botocore.model`) costs 0.15-0.2 s of start-up, most of it
HTTP and signing machinery `corral validate` never uses, and every new botocore session
registers hundreds of event handlers. The models themselves are plain JSON files under
`botocore/data/<service>/<api version>/service-2.json(.gz)`, so this module reads the file
and resolves shapes the way `botocore.model.ShapeResolver` does: same classes by type,
member traits merged over the shape they name, the same `metadata` keys.

Where botocore would find a model somewhere else too (`AWS_DATA_PATH`, `~/.aws/models`, an
`sdk-extras` file beside the model), the data comes from botocore's own loader instead, so
the result is always the model botocore itself would use.
"""

from __future__ import annotations

import gzip
import json
import os
from functools import cache, cached_property
from importlib.util import find_spec
from pathlib import Path
from typing import Any

# The keys botocore.model.Shape.METADATA_ATTRS copies into `metadata`.
METADATA_ATTRS = (
    "required",
    "min",
    "max",
    "pattern",
    "sensitive",
    "enum",
    "idempotencyToken",
    "error",
    "exception",
    "endpointdiscoveryid",
    "retryable",
    "document",
    "union",
    "contextParam",
    "clientContextParams",
    "requiresLength",
)
# botocore tries the plain file before the compressed one.
_SUFFIXES = (".json", ".json.gz")
_MODEL = "service-2"


class Shape:
    """A scalar shape (integer, boolean, timestamp, ...)."""

    def __init__(self, name: str, model: dict[str, Any], resolver: ShapeResolver) -> None:
        self.name = name
        self.type_name: str = model["type"]
        self._model = model
        self._resolver = resolver

    @cached_property
    def metadata(self) -> dict[str, Any]:
        return {key: self._model[key] for key in METADATA_ATTRS if key in self._model}

    @cached_property
    def required_members(self) -> list[str]:
        return list(self.metadata.get("required", []))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.name})>"


class StructureShape(Shape):
    @cached_property
    def members(self) -> dict[str, Shape]:
        refs = self._model.get("members", {})
        return {name: self._resolver.resolve_shape_ref(ref) for name, ref in refs.items()}

    @cached_property
    def is_document_type(self) -> bool:
        return bool(self.metadata.get("document", False))


class ListShape(Shape):
    @cached_property
    def member(self) -> Shape:
        return self._resolver.resolve_shape_ref(self._model["member"])


class MapShape(Shape):
    @cached_property
    def key(self) -> Shape:
        return self._resolver.resolve_shape_ref(self._model["key"])

    @cached_property
    def value(self) -> Shape:
        return self._resolver.resolve_shape_ref(self._model["value"])


class StringShape(Shape):
    @cached_property
    def enum(self) -> list[str]:
        return list(self.metadata.get("enum", []))


_CLASSES: dict[str, type[Shape]] = {
    "structure": StructureShape,
    "list": ListShape,
    "map": MapShape,
    "string": StringShape,
}


class ShapeResolver:
    """Turns `{"shape": name, ...member traits}` references into shape objects."""

    def __init__(self, shapes: dict[str, dict[str, Any]]) -> None:
        self._shapes = shapes

    def shape(self, name: str, traits: dict[str, Any] | None = None) -> Shape:
        model = self._shapes[name]
        if traits:
            model = {**model, **traits}
        return _CLASSES.get(model["type"], Shape)(name, model, self)

    def resolve_shape_ref(self, ref: dict[str, Any]) -> Shape:
        traits = {key: value for key, value in ref.items() if key != "shape"}
        return self.shape(ref["shape"], traits)


@cache
def service_resolver(service: str) -> ShapeResolver:
    return ShapeResolver(service_data(service)["shapes"])


def input_shape(service: str, operation: str) -> Shape:
    """The request shape of one operation (e.g. ecs RegisterTaskDefinition)."""
    data = service_data(service)
    return service_resolver(service).resolve_shape_ref(data["operations"][operation]["input"])


@cache
def service_data(service: str) -> dict[str, Any]:
    """The service model botocore would load for `service`, newest API version."""
    path = _builtin_model(service)
    if path is None:
        import botocore.session  # the rare layouts only botocore's loader knows

        data: dict[str, Any] = botocore.session.get_session().get_service_data(service)
        return data
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    loaded: dict[str, Any] = json.loads(raw.decode("utf-8"))
    return loaded


def _builtin_model(service: str) -> Path | None:
    """The model file in botocore's own data folder, when nothing else could take its place."""
    customer_models = os.path.join(os.path.expanduser("~"), ".aws", "models")  # as botocore finds it
    if os.environ.get("AWS_DATA_PATH") or os.path.exists(customer_models):
        return None
    spec = find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / service
    try:
        versions = sorted(
            (entry.name for entry in os.scandir(folder) if entry.is_dir() and _find(folder / entry.name)),
            reverse=True,
        )
    except OSError:
        return None
    if not versions:
        return None
    latest = folder / versions[0]
    if any(latest.glob(f"{_MODEL}.*-extras.json*")):
        return None
    return _find(latest)


def _find(version_folder: Path) -> Path | None:
    for suffix in _SUFFIXES:
        path = version_folder / f"{_MODEL}{suffix}"
        if path.is_file():
            return path
    return None
