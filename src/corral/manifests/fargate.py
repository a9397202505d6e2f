"""Fargate task sizes: which task-level memory values each cpu value allows.

From reference/ecs-control-plane.md section 6. Values are CPU units and MiB; task
definitions may also write `1 vCPU` / `0.25 vcpu` and `2 GB` / `2GB`, as ECS accepts.
"""

from __future__ import annotations

import re

NO_FARGATE_CONFIGURATION = "No Fargate configuration exists for given values."

FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

_CPU = re.compile(r"^\s*(\d*\.?\d+)\s*(vcpu)?\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"^\s*(\d*\.?\d+)\s*(gb)?\s*$", re.IGNORECASE)


def parse_cpu(text: str) -> int | None:
    """CPU units from '256' or '0.25 vCPU'; None when unreadable."""
    return _units(_CPU, text)


def parse_memory(text: str) -> int | None:
    """MiB from '512' or '0.5 GB'; None when unreadable."""
    return _units(_MEMORY, text)


def _units(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.match(text)
    if not match:
        return None
    value = float(match[1]) * (1024 if match[2] else 1)
    return int(value) if value.is_integer() else None


def allowed_memory_text(cpu: int) -> str:
    """The memory values a cpu value allows, as a sentence fragment."""
    values = FARGATE_MEMORY[cpu]
    if len(values) <= 4:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


def fargate_size_problem(cpu: int, memory: int) -> tuple[str, str] | None:
    """None when (cpu, memory) is a Fargate size, else the member at fault ('cpu' or
    'memory') and the message ECS gives, extended with what is allowed."""
    if cpu not in FARGATE_MEMORY:
        cpus = ", ".join(map(str, FARGATE_MEMORY))
        return "cpu", f"{NO_FARGATE_CONFIGURATION} Fargate cpu must be one of {cpus}; got {cpu}."
    if memory not in FARGATE_MEMORY[cpu]:
        allowed = allowed_memory_text(cpu)
        return "memory", f"{NO_FARGATE_CONFIGURATION} cpu {cpu} allows memory {allowed}; got {memory}."
    return None
