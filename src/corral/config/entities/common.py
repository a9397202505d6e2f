"""Pieces every entity shares: the model base, identifiers, tags, variables, references.

Field names are snake_case in Python and camelCase in YAML (the Harness NextGen spelling);
unknown fields are rejected so a typo is reported with its path instead of ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic.alias_generators import to_camel

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$]{0,127}$"
IDENTIFIER_RE = re.compile(IDENTIFIER_PATTERN)
RUNTIME_INPUT_PREFIX = "<+input>"

# An entity identifier: letters, digits, _ and $, not starting with a digit, at most 128
# characters (Harness's entity identifier rule); it also names files on the server.
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]


def field_error(field: str, message: str) -> ValueError:
    """A validator error about one field; the path of the reported problem ends at that field."""
    return ValueError(f"@{field}: {message}")


def is_runtime_input(value: object) -> bool:
    """True for a `<+input>` field (optionally with `.default(...)` / `.allowedValues(...)`)."""
    return isinstance(value, str) and value.strip().startswith(RUNTIME_INPUT_PREFIX)


def is_expression(value: object) -> bool:
    return isinstance(value, str) and ("<+" in value or "${" in value)


def strip_scope(ref: str) -> str:
    """`account.x` and `org.x` name the same entity as `x`: a Corral project is one scope."""
    for prefix in ("account.", "org.", "project."):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


class Model(BaseModel):
    """Base of every YAML model: camelCase aliases, unknown fields rejected."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=False,
        defer_build=True,
    )

    def to_yaml_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, exclude_unset=True)


class Document(Model):
    """A top-level document as loaded: its common header and where it came from. Only an
    override document may go without identifier and name; every Entity has them."""

    identifier: Identifier | None = None
    name: str | None = None
    account_identifier: str | None = None  # as Harness exports it; a Corral project is one scope
    org_identifier: str | None = None
    project_identifier: str | None = None
    description: str | None = None
    tags: dict[str, str | None] = Field(default_factory=dict)

    # where it was loaded from (project-relative file, line, the raw document), for messages
    # and for finding runtime inputs in the YAML as written
    _file: str = PrivateAttr(default="")
    _line: int = PrivateAttr(default=0)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _line_of: Any = PrivateAttr(default=None)
    # for a pipeline that uses templates: path -> `file:line` where that part was written
    # (the pipeline's file or a template's), see corral.config.templates
    _where_of: Any = PrivateAttr(default=None)
    _written: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_may_be_empty(cls, value: object) -> object:
        return {} if value is None else value

    @property
    def file(self) -> str:
        return self._file

    @property
    def line(self) -> int:
        return self._line

    @property
    def raw(self) -> dict[str, Any]:
        """The document as written, under its top-level key (`{"service": {...}}`)."""
        return self._raw

    def located(self, file: str, line: int, raw: dict[str, Any], line_of: Any = None) -> None:
        self._file = file
        self._line = line
        self._raw = raw
        self._line_of = line_of

    def line_of(self, path: tuple[str | int, ...]) -> int:
        """The line of a YAML path (starting with the kind key) in this entity's file."""
        return int(self._line_of(path)) if self._line_of is not None else self._line

    @property
    def written(self) -> dict[str, Any]:
        """The document as its file holds it: for a pipeline that uses templates, with the uses
        (`raw` is what they resolve to)."""
        return self._written if self._written is not None else self._raw

    def written_at(self, where_of: Any, written: dict[str, Any]) -> None:
        """Parts of this entity were written elsewhere (templates): where_of(path) says where;
        written is the document as its own file holds it."""
        self._where_of = where_of
        self._written = written

    def where(self, path: tuple[str | int, ...] = ()) -> str:
        """`file:line` of a path in this entity, for a Problem."""
        if path and self._where_of is not None:
            return str(self._where_of(path))
        return f"{self._file}:{self.line_of(path) if path else self._line}"


class Entity(Document):
    """A top-level document: `service:`, `environment:`, ... with its common header."""

    identifier: Identifier  # required here (first in field order, as Document declares them)
    name: str


VariableType = Literal["String", "Number", "Secret"]


class Variable(Model):
    """A service or environment variable (`<+serviceVariables.NAME>`, `${serviceVariable.NAME}`)."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.$-]*$")
    type: VariableType = "String"
    value: str | int | float | bool | None = None
    description: str | None = None
    required: bool | None = None

    @model_validator(mode="after")
    def _value_matches_type(self) -> Variable:
        value = self.value
        if value is None or is_expression(value):
            return self
        if self.type == "Number":
            if isinstance(value, bool) or not _is_number(value):
                raise field_error("value", f"expected a number (type is Number), got {value!r}")
        elif self.type == "Secret" and not isinstance(value, str):
            raise field_error("value", "expected a secret identifier (type is Secret)")
        return self

    def typed_value(self) -> Any:
        """The value as a manifest should see it: Numbers as int/float."""
        value = self.value
        if self.type == "Number" and isinstance(value, str) and not is_expression(value):
            number = float(value)
            return int(number) if number.is_integer() else number
        return value


def _is_number(value: object) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True
