"""Plain JSON-like data as expressions see it: type names, text form, truth and comparison.

Expressions only ever touch null, booleans, numbers, strings, lists and maps. Anything else
found in a context is refused rather than inspected, so no Python object is reachable.
Messages use these JSON names, never Python type names.
"""

from __future__ import annotations

import json
import math
from typing import Any

from corral.errors import ExpressionError
from corral.expressions.limits import check_size

# Integers larger than this are refused: they come only from runaway arithmetic and would
# otherwise make text conversion slow or fail.
MAX_INT_BITS = 256


def type_name(value: Any) -> str:
    """The JSON-ish name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "unsupported value"


def is_plain(value: Any) -> bool:
    """True for the values an expression may hold: null, boolean, number, string, list, map."""
    return value is None or isinstance(value, bool | int | float | str | list | tuple | dict)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_number(value: int | float) -> int | float:
    """Refuse results that no deployment setting could use (infinite, NaN, enormous)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("number out of range")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError("number out of range")
    return value


def to_text(value: Any) -> str:
    """The text an expression value becomes when it is embedded in a string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if is_number(value):
        try:
            return str(value)
        except ValueError as exc:  # an integer too long to print
            raise ExpressionError("number out of range") from exc
    if isinstance(value, list | tuple | dict):
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ExpressionError(f"a {type_name(value)} holding non-plain data cannot become text") from exc
    raise ExpressionError(f"{type_name(value)} cannot become text")


def truthy(value: Any) -> bool:
    """JEXL truth: empty, zero, null and the string "false" are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return bool(value != 0)
    if isinstance(value, str):
        return value != "" and value != "false"
    if isinstance(value, list | tuple | dict):
        return len(value) > 0
    raise ExpressionError(f"{type_name(value)} cannot be used as a condition")


def _as_number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    """Pipeline variables are often strings: compare "5" with 5 as numbers, "true" with true."""
    if isinstance(left, str) and len(left) < 64 and is_number(right):
        number = _as_number(left)
        return (number, right) if number is not None else (left, right)
    if isinstance(right, str) and len(right) < 64 and is_number(left):
        number = _as_number(right)
        return (left, number) if number is not None else (left, right)
    if isinstance(left, str) and isinstance(right, bool):
        return left, to_text(right)
    if isinstance(right, str) and isinstance(left, bool):
        return to_text(left), right
    return left, right


def equal(left: Any, right: Any) -> bool:
    left, right = _coerce_pair(left, right)
    if isinstance(left, bool) != isinstance(right, bool):
        return False  # Python's True == 1 is not what a pipeline author means
    if is_number(left) and is_number(right):
        return bool(left == right)
    if type_name(left) != type_name(right):
        return False
    return bool(left == right)


def order(op: str, left: Any, right: Any) -> bool:
    """The ordering comparisons < <= > >= on numbers or on strings."""
    left, right = _coerce_pair(left, right)
    comparable = (is_number(left) and is_number(right)) or (isinstance(left, str) and isinstance(right, str))
    if not comparable:
        raise ExpressionError(f"cannot compare {type_name(left)} with {type_name(right)} using '{op}'")
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def located(path: str, message: str) -> str:
    """A message prefixed with the path in the document where it applies, when there is one."""
    return f"{path}: {message}" if path else message


class Unresolved(Exception):  # a signal, not an error: the rendering mode decides
    """A reference with no value, e.g. artifact.image when no artifact is known."""

    def __init__(self, ref: str, detail: str = "") -> None:
        super().__init__(ref)
        self.ref = ref  # the reference as written, e.g. artifact.image or targetGroupArn
        self.detail = detail


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """+ - * / % as JEXL does them: + joins when either side is a string; integer division."""
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        joined = (to_text(left), to_text(right))
        check_size(len(joined[0]) + len(joined[1]), "text made by '+'")
        return joined[0] + joined[1]
    if op == "+" and isinstance(left, list | tuple) and isinstance(right, list | tuple):
        check_size(len(left) + len(right), "list made by '+'")
        return [*left, *right]
    if not (is_number(left) and is_number(right)):
        raise ExpressionError(f"cannot apply '{op}' to {type_name(left)} and {type_name(right)}")
    if op in "/%" and right == 0:
        raise ExpressionError("division by zero")
    try:
        result = _compute(op, left, right)
    except OverflowError as exc:
        raise ExpressionError("number out of range") from exc
    return checked_number(result)


def _compute(op: str, left: int | float, right: int | float) -> int | float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if isinstance(left, int) and isinstance(right, int):
        # Java integer division and remainder truncate toward zero
        quotient = abs(left) // abs(right) * (1 if (left >= 0) == (right >= 0) else -1)
        return quotient if op == "/" else left - right * quotient
    return left / right if op == "/" else math.fmod(left, right)
