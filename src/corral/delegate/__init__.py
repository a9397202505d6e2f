"""Delegates and distributed execution on Temporal.

    queues.py          task queue names from delegate selectors (`corral-steps-prod`)
    workflow.py        PipelineWorkflow: the engine's Interpreter as one generic Temporal workflow
    step_activity.py   run_step: a step as an activity on a delegate (engine/step_runner.py,
                       with heartbeats, checkpoints recorded in the workflow before the step
                       goes on, cancellation)
    live_logs.py       LiveLog: a running step's log lines on their way to the Corral store
    control.py         activities that need the Corral store and project (journal, stage
                       preparation, locks, approval requests), on the control queue
    temporal_runner.py TemporalRunner: start, abort, approve distributed executions; hosts the
                       control worker
    worker.py          run_delegate: the worker behind `corral delegate`
    registration.py    registers a delegate with the Corral server and keeps it alive

This package imports nothing at load time: the workflow module is re-imported inside
Temporal's sandbox and must not drag the store or boto3 along.
"""
