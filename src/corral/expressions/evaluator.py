"""Evaluate expression trees against the plain data of an ExpressionContext.

Safety comes from what is absent: no Python eval, no getattr. A name is looked up as a
key of a dict, an index as a position in a list, and a call only reaches the allow-list
in functions.py (plus secrets.getValue). Values read from the context must be plain data
(values.is_plain), so no Python object can be reached through them.

A reference with no value raises values.Unresolved (its mode is decided by the caller);
everything else that goes wrong raises ExpressionError with the node's position.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from corral.errors import ExpressionError
from corral.expressions.context import ExpressionContext, SecretMemory
from corral.expressions.functions import call_function, call_method
from corral.expressions.inputs import WHOLE_VALUE
from corral.expressions.masking import MIN_SECRET_LENGTH, short_secret
from corral.expressions.nodes import (
    Attr,
    Binary,
    Block,
    Index,
    InputRef,
    Literal,
    Method,
    Node,
    StringTemplate,
    Template,
    Ternary,
    Text,
    Unary,
    Var,
)
from corral.expressions.taint import Marked, carry, secret_strings
from corral.expressions.values import (
    Unresolved,
    arithmetic,
    equal,
    is_number,
    is_plain,
    order,
    to_text,
    truthy,
    type_name,
)

NAMESPACES = ("json", "regex", "secrets", "configFile")


def reference(node: Node) -> str | None:
    """The text of a plain reference chain (a.b[0]["k"]), or None for anything else."""
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Attr):
        base = reference(node.target)
        return f"{base}.{node.name}" if base is not None else None
    if isinstance(node, Index) and isinstance(node.key, Literal):
        base = reference(node.target)
        key = json.dumps(node.key.value) if isinstance(node.key.value, str) else to_text(node.key.value)
        return f"{base}[{key}]" if base is not None else None
    return None


@contextmanager
def _at(position: int) -> Iterator[None]:
    """Give errors raised inside without a position the position of the current node."""
    try:
        yield
    except ExpressionError as exc:
        if exc.position is not None:
            raise
        raise ExpressionError(exc.detail, position=position) from exc


class Evaluator:
    """Evaluates nodes; `values` is the context data with aliases applied."""

    def __init__(self, ctx: ExpressionContext, values: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.values = values

    def value(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Var):
            return self.variable(node)
        if isinstance(node, Attr | Index):
            return self.member(node)
        if isinstance(node, Method):
            return self.call(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Ternary):
            condition = self.value(node.condition)
            with _at(node.pos):
                chosen = node.then if truthy(condition) else node.otherwise
            return self.value(chosen)
        if isinstance(node, Block):
            return self.value(node.expr)
        if isinstance(node, StringTemplate):
            return self.text(node.template)
        raise ExpressionError("unsupported expression")  # unreachable: nodes.Node is closed

    def text(self, template: Template) -> str:
        """A string literal holding <+...>: its expressions evaluated and joined as text."""
        pieces = []
        values = []
        for part in template.parts:
            if isinstance(part, Text):
                pieces.append(part.value)
            elif isinstance(part, Block):
                values.append(self.value(part.expr))
                pieces.append(to_text(values[-1]))
            elif isinstance(part, InputRef):
                raise ExpressionError(WHOLE_VALUE, position=part.pos)
            else:
                pieces.append(part.source)
        text: str = self.carried("".join(pieces), *values)
        return text

    # -- references ---------------------------------------------------------------------

    def variable(self, node: Var) -> Any:
        if node.name in self.values:
            return self.plain(self.values[node.name], node)
        if node.name == "input":
            raise ExpressionError(WHOLE_VALUE, position=node.pos)
        raise Unresolved(node.name)

    def member(self, node: Attr | Index) -> Any:
        try:
            container = self.value(node.target)
        except Unresolved as missing:
            # name the whole chain (artifact.image), not just the part that was absent
            ref = reference(node)
            raise (Unresolved(ref) if ref is not None else missing) from None
        key: Any = node.name if isinstance(node, Attr) else self.value(node.key)
        with _at(node.pos):
            found, item = self.lookup(container, key, node)
        if not found:
            ref = reference(node)
            raise Unresolved(ref if ref is not None else f"{reference(node.target) or '...'}[...]")
        return self.plain(item, node)

    def lookup(self, container: Any, key: Any, node: Attr | Index) -> tuple[bool, Any]:
        if container is None:
            return False, None  # null has no members: the reference is unresolved
        if isinstance(container, dict):
            if isinstance(key, bool) or not isinstance(key, str | int | float):
                raise ExpressionError(f"a map key must be a string or a number, not a {type_name(key)}")
            for candidate in (key, to_text(key)):
                if candidate in container:
                    return True, container[candidate]
            return False, None
        if isinstance(container, list | tuple) and isinstance(node, Index):
            whole = is_number(key) and (isinstance(key, int) or float(key).is_integer())
            if not whole:
                raise ExpressionError(f"a list index must be a whole number, not a {type_name(key)}")
            position = int(key)
            return (True, container[position]) if 0 <= position < len(container) else (False, None)
        what = f"field '{key}'" if isinstance(node, Attr) else "index"
        raise ExpressionError(f"a {type_name(container)} has no {what}")

    def plain(self, value: Any, node: Node) -> Any:
        if not is_plain(value):
            where = reference(node) or "this reference"
            raise ExpressionError(f"{where} holds a value that is not plain data", position=node.pos)
        return value

    # -- calls --------------------------------------------------------------------------

    def call(self, node: Method) -> Any:
        target = node.target
        if isinstance(target, Var) and target.name in NAMESPACES:
            args = [self.value(arg) for arg in node.args]
            with _at(node.pos):
                if target.name == "secrets":
                    return self.secret(node.name, args)
                if target.name == "configFile":
                    return self.config_file(node.name, args)
                return self.carried(call_function(target.name, node.name, args), *args)
        receiver = self.value(target)
        args = [self.value(arg) for arg in node.args]
        with _at(node.pos):
            # whatever is computed from a secret or a run-time input stays marked
            return self.carried(call_method(receiver, node.name, args), receiver, *args)

    def carried(self, result: Any, *inputs: Any) -> Any:
        """result marked with its inputs' marks; each string computed from a secret is added to
        the values to mask at once, so an error that quotes it later is masked too."""
        result = carry(result, *inputs)
        memory = self.ctx.secrets if isinstance(self.ctx.secrets, SecretMemory) else None
        for text in secret_strings(result):
            if len(text) >= MIN_SECRET_LENGTH:
                self.ctx.used_secrets.add(str(text))
                if memory is not None:
                    memory.remember(str(text))
        return result

    def secret(self, name: str, args: list[Any]) -> str:
        if name != "getValue":
            raise ExpressionError(f"secrets.{name}() is not a function; allowed: secrets.getValue")
        if len(args) != 1 or not isinstance(args[0], str):
            raise ExpressionError("secrets.getValue() takes one string: the secret's identifier")
        identifier = args[0]
        ref = f"secrets.getValue({json.dumps(identifier)})"
        if self.ctx.secrets is None:
            raise Unresolved(ref, detail="secrets are not available here")
        try:
            secret = self.ctx.secrets(identifier)
        except LookupError:
            raise Unresolved(ref, detail=f"no secret '{identifier}'") from None
        except ExpressionError:
            raise
        except Exception as exc:  # the resolver is the caller's code: report, don't crash
            raise ExpressionError(f"secret '{identifier}' could not be read: {exc}") from exc
        if not isinstance(secret, str):
            raise ExpressionError(f"secret '{identifier}' is not a string")
        if 0 < len(secret) < MIN_SECRET_LENGTH:
            raise ExpressionError(short_secret(identifier, len(secret)))
        self.ctx.used_secrets.add(secret)
        return Marked(secret, secrets={identifier})

    def config_file(self, name: str, args: list[Any]) -> str:
        """<+configFile.getAsString("id")> / getAsBase64("id"): a service config file's text
        (after overrides), from the context's `configFiles` values (identifier -> text)."""
        if name not in ("getAsString", "getAsBase64"):
            raise ExpressionError(
                f"configFile.{name}() is not a function; allowed: configFile.getAsString, configFile.getAsBase64"
            )
        if len(args) != 1 or not isinstance(args[0], str):
            raise ExpressionError(f"configFile.{name}() takes one string: the config file's identifier")
        files = self.ctx.values.get("configFiles")
        text = files.get(args[0]) if isinstance(files, Mapping) else None
        if not isinstance(text, str):
            raise Unresolved(
                f"configFile.{name}({json.dumps(args[0])})", detail=f"no config file '{args[0]}'"
            )
        if name == "getAsString":
            return text
        import base64

        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    # -- operators ----------------------------------------------------------------------

    def unary(self, node: Unary) -> Any:
        operand = self.value(node.operand)
        if node.op == "!":
            with _at(node.pos):
                return not truthy(operand)
        if not is_number(operand):
            raise ExpressionError(f"cannot apply '{node.op}' to a {type_name(operand)}", position=node.pos)
        return -operand if node.op == "-" else operand

    def binary(self, node: Binary) -> Any:
        with _at(node.pos):
            if node.op == "&&":
                return truthy(self.value(node.left)) and truthy(self.value(node.right))
            if node.op == "||":
                return truthy(self.value(node.left)) or truthy(self.value(node.right))
        left = self.value(node.left)
        right = self.value(node.right)
        with _at(node.pos):
            if node.op == "==":
                return equal(left, right)
            if node.op == "!=":
                return not equal(left, right)
            if node.op in ("<", "<=", ">", ">="):
                return order(node.op, left, right)
            return self.carried(arithmetic(node.op, left, right), left, right)
