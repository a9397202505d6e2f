"""The pipeline engine: a deterministic interpreter, an embedded executor, generic steps.

    execution = run_pipeline(project, "ecs_tutorial_rolling", inputs={"tag": "1.27"})
    resume(execution_id); abort(execution_id); approve(execution_id, comment="ok")
    register("MyStep", run, spec=MyStepSpec)   # a step type's implementation and spec model

Modules, from the outside in:
    api.py            run_pipeline, resume, abort, approve, intervene, get_execution
    inputs.py         the pipeline's runtime inputs (--input, inputs file, input sets)
    plan.py           the pipeline snapshot as frozen dataclasses; durations.py
    interpreter.py    the state machine: events in, commands and status updates out; no I/O
    messages.py       commands, events (journaled), updates
    runtime_values.py what <+pipeline.*>, <+stage.*>, <+execution.steps.*> ... read
    conditions.py     `when` conditions and assertions
    embedded.py       runs commands in this process: threads, journal, leases, locks, approvals
    step_runner.py    one run of a step (secrets, masking, timeout, grace to stop), shared by
                      embedded.py and the delegate's activity
    targets.py        a stage's service, environment and infrastructure; the service lock key
    steps.py          the step registry, StepRun (what a step gets), StepOutcome (what it returns)
    step_specs.py     what a step's spec may hold (StepSpec models), checked before a run starts;
                      generic_step_specs.py (and wiring/ecs_step_types.py): the models; pipeline_checks.py:
                      everything validate, plan and the start of run check in a pipeline
    shell_script.py, http_step.py, wait_step.py, verify.py (+ analysis.py): the generic steps
    step_process.py   where a script's process runs: here, isolated (step_users.py: OS users), or refused
    shell_script_provision.py  ShellScriptProvision: a script's JSON ($PROVISIONER_OUTPUT_PATH) as outputs
    builtin.py        the generic step types, registered with the others by corral.wiring (loaded
                      through the `corral.step_types` entry point when a step type is first looked up)
"""

from corral.engine.api import (
    Execution,
    abort,
    approve,
    create_execution,
    get_execution,
    intervene,
    resume,
    run_pipeline,
)
from corral.engine.embedded import EmbeddedExecutor, ExecutionBusy, ExecutorOptions
from corral.engine.interpreter import Interpreter, RunInfo
from corral.engine.plan import PipelinePlan, build_plan
from corral.engine.steps import (
    PriorStep,
    StageTarget,
    StepImpl,
    StepOutcome,
    StepRun,
    implementation,
    register,
    registered_types,
    unregister,
)

__all__ = [
    "EmbeddedExecutor",
    "Execution",
    "ExecutionBusy",
    "ExecutorOptions",
    "Interpreter",
    "PipelinePlan",
    "PriorStep",
    "RunInfo",
    "StageTarget",
    "StepImpl",
    "StepOutcome",
    "StepRun",
    "abort",
    "approve",
    "build_plan",
    "create_execution",
    "get_execution",
    "implementation",
    "intervene",
    "register",
    "registered_types",
    "resume",
    "run_pipeline",
    "unregister",
]
