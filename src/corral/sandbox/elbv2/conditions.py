"""Rule conditions: validation and the normal form DescribeRules returns.

`path-pattern` and `host-header` accept the legacy `Values` or their `*Config`; AWS answers
with both. The other fields answer with their `*Config` only.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .exceptions import ValidationError

CONFIG_KEYS = {
    "path-pattern": "PathPatternConfig",
    "host-header": "HostHeaderConfig",
    "http-header": "HttpHeaderConfig",
    "query-string": "QueryStringConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "source-ip": "SourceIpConfig",
}
LEGACY_VALUES = ("path-pattern", "host-header")
MAX_VALUES_PER_RULE = 5
MAX_PATTERN_LENGTH = 128


def normalize_conditions(conditions: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if not conditions:
        raise ValidationError("A rule must have at least one condition")
    out = [_normalize(c) for c in conditions]
    seen = [c["Field"] for c in out if c["Field"] not in ("http-header", "query-string")]
    for field in set(seen):
        if seen.count(field) > 1:
            raise ValidationError(f"A rule can have only one '{field}' condition")
    if sum(_value_count(c) for c in out) > MAX_VALUES_PER_RULE:
        raise ValidationError(f"A rule can only have '{MAX_VALUES_PER_RULE}' condition values")
    return out


def _normalize(condition: dict[str, Any]) -> dict[str, Any]:
    field = condition.get("Field")
    if field not in CONFIG_KEYS:
        raise ValidationError(f"Condition field '{field}' must be one of [{', '.join(CONFIG_KEYS)}]")
    key = CONFIG_KEYS[field]
    config = condition.get(key)
    values = condition.get("Values")
    if values is not None and field not in LEGACY_VALUES:
        raise ValidationError(f"Condition field '{field}' must be specified with '{key}', not 'Values'")
    if field in LEGACY_VALUES:
        if config is not None and values is not None and config.get("Values") != values:
            raise ValidationError(f"Values and {key} of a '{field}' condition cannot differ")
        values = values if values is not None else (config or {}).get("Values")
        _check_values(field, values)
        for value in values or []:
            if len(value) > MAX_PATTERN_LENGTH:
                raise ValidationError(f"A '{field}' value can have at most {MAX_PATTERN_LENGTH} characters")
        return {"Field": field, "Values": list(values or []), key: {"Values": list(values or [])}}
    if config is None:
        raise ValidationError(f"A '{field}' condition needs '{key}'")
    return {"Field": field, key: _checked_config(field, config)}


def _checked_config(field: str, config: dict[str, Any]) -> dict[str, Any]:
    values = config.get("Values")
    _check_values(field, values)
    if field == "http-header":
        name = config.get("HttpHeaderName", "")
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}", name):
            raise ValidationError(f"HTTP header name '{name}' is not valid")
    elif field == "query-string":
        for pair in values or []:
            if not pair.get("Value"):
                raise ValidationError("Each query-string condition value needs a 'Value'")
    elif field == "http-request-method":
        for method in values or []:
            if not re.fullmatch(r"[A-Z_-]{1,40}", method):
                raise ValidationError(f"HTTP request method '{method}' is not valid")
    elif field == "source-ip":
        for cidr in values or []:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValidationError(f"Source IP '{cidr}' is not a valid CIDR block") from exc
    return {k: v for k, v in config.items() if v is not None}


def _check_values(field: str, values: list[Any] | None) -> None:
    if not values:
        raise ValidationError(f"A '{field}' condition needs at least one value")


def _value_count(condition: dict[str, Any]) -> int:
    config = condition[CONFIG_KEYS[condition["Field"]]]
    return len(config.get("Values") or [])
