"""Fargate task sizes and the cpu/memory notations ECS accepts ("1 vCPU", "2 GB", "2048")."""

from __future__ import annotations

import re

from .exceptions import ClientException


def _range(low: int, high: int, step: int) -> frozenset[int]:
    return frozenset(range(low, high + 1, step))


# task cpu units -> allowed task memory (MiB), from the reference's table
FARGATE_SIZES: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: _range(1024, 4096, 1024),
    1024: _range(2048, 8192, 1024),
    2048: _range(4096, 16384, 1024),
    4096: _range(8192, 30720, 1024),
    8192: _range(16384, 61440, 4096),
    16384: _range(32768, 122880, 8192),
}

_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)


def cpu_units(value: str, *, field: str = "cpu") -> int:
    """`"1 vCPU"` or `"1024"` -> 1024."""
    match = _VCPU.match(value)
    if match:
        return int(float(match.group(1)) * 1024)
    if value.strip().isdigit():
        return int(value)
    raise ClientException(f"Invalid '{field}' setting for task: {value!r}.")


def memory_mib(value: str, *, field: str = "memory") -> int:
    """`"2 GB"` or `"2048"` -> 2048."""
    match = _GB.match(value)
    if match:
        return int(float(match.group(1)) * 1024)
    if value.strip().isdigit():
        return int(value)
    raise ClientException(f"Invalid '{field}' setting for task: {value!r}.")


def is_fargate_size(cpu: int, memory: int) -> bool:
    return memory in FARGATE_SIZES.get(cpu, frozenset())
