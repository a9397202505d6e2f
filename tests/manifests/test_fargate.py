"""The Fargate cpu/memory table, exactly as reference/ecs-control-plane.md gives it."""

from __future__ import annotations

import pytest

from corral.manifests import check_ecs_rules
from corral.manifests.fargate import FARGATE_MEMORY, parse_cpu, parse_memory

from .helpers import fargate_task

VALID = [
    ("256", "512"), ("256", "1024"), ("256", "2048"),
    ("512", "1024"), ("512", "2048"), ("512", "3072"), ("512", "4096"),
    ("1024", "2048"), ("1024", "5120"), ("1024", "8192"),
    ("2048", "4096"), ("2048", "9216"), ("2048", "16384"),
    ("4096", "8192"), ("4096", "19456"), ("4096", "30720"),
    ("8192", "16384"), ("8192", "20480"), ("8192", "61440"),
    ("16384", "32768"), ("16384", "40960"), ("16384", "122880"),
    ("0.25 vCPU", "0.5 GB"), ("1 vcpu", "2GB"), (".5 vCPU", "1 GB"), ("4 vCPU", "30 GB"),
]  # fmt: skip

INVALID = [
    ("256", "3072", "memory", "cpu 256 allows memory 512, 1024, 2048; got 3072."),
    ("256", "256", "memory", "cpu 256 allows memory 512, 1024, 2048; got 256."),
    ("512", "512", "memory", "cpu 512 allows memory 1024, 2048, 3072, 4096; got 512."),
    ("512", "5120", "memory", "cpu 512 allows memory 1024, 2048, 3072, 4096; got 5120."),
    ("1024", "1024", "memory", "cpu 1024 allows memory 2048 to 8192 in steps of 1024; got 1024."),
    ("1024", "2500", "memory", "cpu 1024 allows memory 2048 to 8192 in steps of 1024; got 2500."),
    ("2048", "17408", "memory", "cpu 2048 allows memory 4096 to 16384 in steps of 1024; got 17408."),
    ("4096", "31744", "memory", "cpu 4096 allows memory 8192 to 30720 in steps of 1024; got 31744."),
    ("8192", "17408", "memory", "cpu 8192 allows memory 16384 to 61440 in steps of 4096; got 17408."),
    ("16384", "36864", "memory", "cpu 16384 allows memory 32768 to 122880 in steps of 8192; got 36864."),
    ("16384", "131072", "memory", "cpu 16384 allows memory 32768 to 122880 in steps of 8192; got 131072."),
    ("128", "512", "cpu", "Fargate cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384; got 128."),
    ("3072", "8192", "cpu", "Fargate cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384; got 3072."),
]  # fmt: skip


def fargate_problems(cpu: str | None, memory: str | None) -> list[tuple[str, str]]:
    request = fargate_task(cpu=cpu, memory=memory)
    problems = check_ecs_rules(request, None, source_task="task.yaml", source_service="service.yaml")
    return [(p.path, p.message) for p in problems]


def test_table_matches_the_reference() -> None:
    assert {cpu: (m[0], m[-1], len(m)) for cpu, m in FARGATE_MEMORY.items()} == {
        256: (512, 2048, 3),
        512: (1024, 4096, 4),
        1024: (2048, 8192, 7),
        2048: (4096, 16384, 13),
        4096: (8192, 30720, 23),
        8192: (16384, 61440, 12),
        16384: (32768, 122880, 12),
    }


@pytest.mark.parametrize(("cpu", "memory"), VALID)
def test_valid_fargate_sizes(cpu: str, memory: str) -> None:
    assert fargate_problems(cpu, memory) == []


@pytest.mark.parametrize(("cpu", "memory", "path", "detail"), INVALID)
def test_invalid_fargate_sizes(cpu: str, memory: str, path: str, detail: str) -> None:
    assert fargate_problems(cpu, memory) == [
        (path, f"No Fargate configuration exists for given values. {detail}")
    ]


def test_fargate_needs_task_level_cpu_and_memory() -> None:
    assert fargate_problems(None, "512") == [
        ("cpu", "No Fargate configuration exists for given values. Fargate needs task-level cpu and memory; cpu not set.")
    ]  # fmt: skip


def test_unreadable_sizes_say_what_is_expected() -> None:
    assert fargate_problems("a lot", "512MB") == [
        ("cpu", "expected CPU units (e.g. '256') or vCPUs (e.g. '1 vCPU'); got 'a lot'"),
        ("memory", "expected MiB (e.g. '512') or GB (e.g. '2 GB'); got '512MB'"),
    ]


def test_sizes_are_not_checked_off_fargate() -> None:
    request = fargate_task(cpu="128", memory="300", requiresCompatibilities=["EC2"], networkMode="bridge")
    assert check_ecs_rules(request, None, source_task="t", source_service="s", launch_type="EC2") == []


@pytest.mark.parametrize(("text", "units"), [("256", 256), ("1 vCPU", 1024), ("0.25 vcpu", 256), ("x", None)])
def test_parse_cpu(text: str, units: int | None) -> None:
    assert parse_cpu(text) == units


@pytest.mark.parametrize(("text", "mib"), [("512", 512), ("2 GB", 2048), ("0.5gb", 512), ("1.3 GB", None)])
def test_parse_memory(text: str, mib: int | None) -> None:
    assert parse_memory(text) == mib
