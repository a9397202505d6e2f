"""Engine overhead: what the interpreter, the executor and the journal cost per step that does nothing.

Run: python bench/engine_bench.py [--steps 200] [--repeat 3]
Writes bench/results/engine.json and bench/results/engine.md.

A pipeline of N no-op steps (a step type registered here that returns at once) runs in the
embedded executor on SQLite (WAL) in a temporary folder: the time per step covers the
interpreter, the worker thread, the journal write and the step state rows. The interpreter
alone (events fed by hand, no store) and a journal replay (what a resume costs) are measured
too, as is a pipeline of N/2 two-branch parallel blocks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from common import median, write

import corral.config.entities.pipeline as pipeline_entities
from corral.config import load_project
from corral.engine import (
    ExecutorOptions,
    Interpreter,
    RunInfo,
    StepOutcome,
    build_plan,
    create_execution,
    register,
)
from corral.engine.embedded import EmbeddedExecutor
from corral.engine.messages import RunStep, StepFinished, event_from_json
from corral.store import Store

TARGET_MS = 5.0


def noop(_run: Any) -> StepOutcome:
    return StepOutcome(outputs={"ok": True})


def steps(count: int, *, parallel: bool) -> list[dict[str, Any]]:
    def one(i: int) -> dict[str, Any]:
        return {
            "step": {
                "name": f"s{i}",
                "identifier": f"s{i}",
                "type": "Noop",
                "spec": {"i": "<+pipeline.sequenceId>"},
            }
        }

    if not parallel:
        return [one(i) for i in range(count)]
    return [{"parallel": [one(i), one(i + 1)]} for i in range(0, count, 2)]


def project_with(root: Path, count: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "corral.yaml").write_text("project:\n  name: bench\n")
    docs = []
    for name, parallel in (("serial", False), ("parallel", True)):
        body = {
            "name": name,
            "identifier": name,
            "stages": [
                {
                    "stage": {
                        "name": "s",
                        "identifier": "s",
                        "type": "Custom",
                        "spec": {"execution": {"steps": steps(count, parallel=parallel)}},
                    }
                }
            ],
        }
        docs.append(yaml.safe_dump({"pipeline": body}))
    (root / "pipelines.yaml").write_text("---\n".join(docs))
    return root


def embedded_ms(root: Path, store: Store, pipeline_id: str, count: int) -> tuple[float, str]:
    project = load_project(root)
    record = create_execution(project, pipeline_id, store=store)
    executor = EmbeddedExecutor(store, project, ExecutorOptions())
    started = time.perf_counter()
    status = executor.run(record.id)
    elapsed = time.perf_counter() - started
    assert status == "Success", status
    return elapsed * 1000 / count, record.id


def interpreter_ms(store: Store, execution_id: str, count: int) -> tuple[float, float]:
    """(interpreter alone per step, replay of the journal per event) in milliseconds."""
    record = store.execution(execution_id)
    assert record is not None
    plan = build_plan(record.snapshot["pipeline"])
    info = RunInfo(record.id, record.sequence_id, record.snapshot["startTs"])
    started = time.perf_counter()
    interpreter = Interpreter(plan, info)
    pending = list(interpreter.start())
    while pending:
        command = pending.pop(0)
        if isinstance(command, RunStep):
            pending += interpreter.feed(StepFinished(command.id, "Success", {"ok": True}))
    alone = (time.perf_counter() - started) * 1000 / count
    assert interpreter.finished
    started = time.perf_counter()
    events = store.journal(execution_id, kinds=["StepFinished"])
    replay = Interpreter(plan, info)
    replay.start()
    for entry in events:
        replay.feed(event_from_json(entry.kind, entry.payload))
    assert replay.finished
    return alone, (time.perf_counter() - started) * 1000 / len(events)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pipeline_entities.STEP_TYPES = (*pipeline_entities.STEP_TYPES, "Noop")  # the bench's own step type
    register("Noop", noop)
    results: dict[str, list[float]] = {"serial": [], "parallel": [], "alone": [], "replay": []}
    with tempfile.TemporaryDirectory() as folder:
        root = project_with(Path(folder) / "project", args.steps)
        store = Store.open(f"sqlite:///{folder}/corral.db")
        for _ in range(args.repeat):
            serial, execution_id = embedded_ms(root, store, "serial", args.steps)
            results["serial"].append(serial)
            results["parallel"].append(embedded_ms(root, store, "parallel", args.steps)[0])
            alone, replay = interpreter_ms(store, execution_id, args.steps)
            results["alone"].append(alone)
            results["replay"].append(replay)
        store.close()
    m = {k: round(median(v), 3) for k, v in results.items()}
    rows = [
        {
            "metric": f"embedded executor on SQLite, per no-op step ({args.steps} in a row), ms",
            "value": m["serial"],
            "target": f"< {TARGET_MS}",
            "met": m["serial"] < TARGET_MS,
        },
        {
            "metric": f"same, {args.steps // 2} parallel blocks of 2 steps, per step, ms",
            "value": m["parallel"],
            "target": f"< {TARGET_MS}",
            "met": m["parallel"] < TARGET_MS,
        },
        {
            "metric": "interpreter alone (no store, no threads), per step, ms",
            "value": m["alone"],
            "target": "",
            "met": None,
        },
        {
            "metric": "journal replay (what a resume costs), per event, ms",
            "value": m["replay"],
            "target": "",
            "met": None,
        },
    ]
    path = write(
        "engine",
        "Engine overhead per no-op step",
        rows,
        {"steps": args.steps, "repeat": args.repeat, "samples": results},
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
