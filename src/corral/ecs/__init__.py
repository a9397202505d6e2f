"""ECS deployment steps: one module per step family, plus what they share.

Steps (each `fn(ctx: StepContext, target: EcsTarget, options) -> StepOutcome`; rollbacks take the
deploy step's rollback data (its outcome's `checkpoint`) and work from it alone, even in a new process):

    rolling.py          ECS Rolling Deploy, ECS Rolling Rollback
    canary.py           ECS Canary Deploy, ECS Canary Delete (and the canary rollback)
    bluegreen/          ECS Blue Green: Create Service, Swap Target Groups, Traffic Shift (Inherit
                        and Standalone), Blue Green Rollback, Stand Alone Traffic Shift Rollback;
                        its layout decision (which service is live) and its journaled state
    run_task.py         ECS Run Task
    scale.py            ECS Scale (count or percentage) and its rollback

Shared:

    context.py          StepContext: clients, log, deadline, abort, checkpoint, call scope
    target.py           EcsTarget: the rendered requests of one service on one cluster
    (each step returns a corral.step_outcome.StepOutcome: outputs, and its rollback data as checkpoint)
    task_definitions.py register a task definition, or reuse the latest revision when equal
    service_requests.py CreateService / UpdateService requests from manifests and from a live service
    services.py         create, update, delete and wait for services; tags
    autoscaling.py      capture, remove and attach scalable targets and scaling policies
    snapshot.py         rollback data: the live service, its tags and autoscaling, before any change
    steady_state.py     waiting until the deployment we made is COMPLETED, or failing with ECS's reason
    native/             ECS's own strategies (BLUE_GREEN, LINEAR, CANARY): the verdict on a service
                        deployment, following it to SUCCESSFUL, a PAUSE hook or a lifecycle stage
    deployment_wait.py  which of the two a service step waits with, by the service's strategy
    listeners.py        load balancer, listener and rule resolution; the traffic router
    instances.py        the `instances` output (every page of ListTasks / DescribeTasks)
"""
