"""ECS deployment steps: one module per step family, plus what they share.

context.py          StepContext: clients, log, deadline, abort, checkpoint
log.py              StepLog: sectioned, timestamped lines a person can follow
task_definitions.py register a task definition, or reuse the latest revision when equal
service_requests.py CreateService / UpdateService requests from manifests and from a live service
autoscaling.py      capture, remove and attach scalable targets and scaling policies
snapshot.py         rollback data: the live service, its tags and autoscaling, before any change
steady_state.py     waiting until the deployment we made is COMPLETED, or failing with ECS's reason
"""
