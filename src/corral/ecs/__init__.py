"""ECS deployment steps: one module per step family, plus what they share.

Steps (each `fn(ctx, target, options) -> StepResult`; rollbacks `fn(ctx, target, rollback_data)`):

rolling.py          ECS Rolling Deploy, ECS Rolling Rollback
canary.py           ECS Canary Deploy, ECS Canary Delete (also the canary's rollback)
run_task.py         ECS Run Task
scale.py            ECS Scale and its rollback
bluegreen.py        ECS Blue Green Create Service, Swap Target Groups, Rollback
traffic_shift.py    ECS Blue Green Traffic Shift and its rollback

Shared:

context.py          StepContext: clients, log, deadline, abort, checkpoint; AWS errors made readable
result.py           StepResult: outputs (the reference's names) and JSON-ready rollback data
target.py           EcsTarget: the rendered requests of one service on one cluster
log.py              StepLog: sectioned, timestamped lines a person can follow
task_definitions.py register a task definition, or reuse the latest revision when equal
service_requests.py CreateService / UpdateService requests from manifests and from a live service
services.py         describe, create, update, delete and wait for a service; reconcile its tags
autoscaling.py      capture, remove, attach and restore scalable targets and scaling policies
snapshot.py         rollback data: the live service, its tags and autoscaling, before any change
steady_state.py     waiting until the deployment we made is COMPLETED, or failing with ECS's reason
instances.py        the `instances` output: a service's tasks over every ListTasks page
listeners.py        load balancer listeners and rules (Blue Green, traffic shift)
"""
