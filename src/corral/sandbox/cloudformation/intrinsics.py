"""Intrinsic functions and condition functions, resolved against a stack's state.

AWS: "Intrinsic function reference" and "Condition functions" (CloudFormation User Guide).
Served: Ref (parameters, pseudo parameters, resources), Fn::GetAtt, Fn::Sub (both forms),
Fn::Join, Fn::Select, Fn::Split, Fn::GetAZs, Fn::If (with AWS::NoValue), Fn::Equals, Fn::And,
Fn::Or, Fn::Not, Condition, Fn::FindInMap, Fn::Base64, Fn::Cidr, Fn::ImportValue.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from .exceptions import ValidationError


class _NoValue:
    """AWS::NoValue: the property it stands for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"

    def __reduce__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()


class Resolver:
    """Resolves a template value. `ref`, `get_att`, `azs`, `import_value` come from the stack."""

    def __init__(
        self,
        *,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        conditions: dict[str, Any],
        mappings: dict[str, Any],
        azs: Callable[[str], list[str]],
        import_value: Callable[[str], str],
    ) -> None:
        self._ref = ref
        self._get_att = get_att
        self._condition_specs = conditions
        self._conditions: dict[str, bool] = {}
        self._mappings = mappings
        self._azs = azs
        self._import = import_value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._condition_specs:
                raise ValidationError(f"Template error: unresolved condition dependency {name} in Fn::If")
            self._conditions[name] = bool(self._truth(self._condition_specs[name]))
        return self._conditions[name]

    def _truth(self, value: Any) -> bool:
        value = self.resolve(value)
        if isinstance(value, bool):
            return value
        return str(value).lower() == "true"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._functions().get(key)
            if handler is not None:
                return handler(arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._fn_ref,
            "Fn::GetAtt": self._fn_get_att,
            "Fn::Sub": self._fn_sub,
            "Fn::Join": self._fn_join,
            "Fn::Select": self._fn_select,
            "Fn::Split": self._fn_split,
            "Fn::GetAZs": self._fn_get_azs,
            "Fn::If": self._fn_if,
            "Fn::Equals": self._fn_equals,
            "Fn::And": lambda arg: all(self._truth(v) for v in arg),
            "Fn::Or": lambda arg: any(self._truth(v) for v in arg),
            "Fn::Not": lambda arg: not self._truth(arg[0] if isinstance(arg, list) else arg),
            "Condition": lambda arg: self.condition(arg),
            "Fn::FindInMap": self._fn_find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(str(self.resolve(arg)).encode()).decode(),
            "Fn::Cidr": self._fn_cidr,
            "Fn::ImportValue": lambda arg: self._import(str(self.resolve(arg))),
        }

    def _fn_ref(self, arg: Any) -> Any:
        if arg == "AWS::NoValue":
            return NO_VALUE
        return self._ref(str(arg))

    def _fn_get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            raise ValidationError("Template error: every Fn::GetAtt object requires two non-empty parameters")
        return self._get_att(str(arg[0]), str(self.resolve(arg[1])))

    def _fn_sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
        local = {k: self.resolve(v) for k, v in (variables or {}).items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return _text(local[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return _text(self._get_att(resource, attribute))
            return _text(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def _fn_join(self, arg: Any) -> str:
        delimiter, items = arg[0], self.resolve(arg[1])
        if not isinstance(items, list):
            raise ValidationError(
                "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings"
            )
        return str(delimiter).join(_text(item) for item in items)

    def _fn_select(self, arg: Any) -> Any:
        index, items = int(self.resolve(arg[0])), self.resolve(arg[1])
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise ValidationError(
                "Template error: Fn::Select cannot select nonexistent value at index " + str(index)
            )
        return items[index]

    def _fn_split(self, arg: Any) -> list[str]:
        return str(self.resolve(arg[1])).split(str(arg[0]))

    def _fn_get_azs(self, arg: Any) -> list[str]:
        return self._azs(str(self.resolve(arg) or ""))

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, arg: Any) -> bool:
        left, right = (self.resolve(v) for v in arg)
        return _text(left) == _text(right)

    def _fn_find_in_map(self, arg: Any) -> Any:
        name, top, second = (self.resolve(v) for v in arg[:3])
        try:
            return self._mappings[name][top][second]
        except (KeyError, TypeError) as exc:
            raise ValidationError(
                f"Template error: Unable to get mapping for {name}::{top}::{second}"
            ) from exc

    def _fn_cidr(self, arg: Any) -> list[str]:
        block, count, bits = (self.resolve(v) for v in arg)
        network = ipaddress.ip_network(str(block), strict=False)
        prefix = network.max_prefixlen - int(bits)
        subnets = network.subnets(new_prefix=prefix)
        return [str(next(subnets)) for _ in range(int(count))]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)
