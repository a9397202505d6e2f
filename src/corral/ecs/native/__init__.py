"""ECS's own deployment strategies (deployment controller ECS with BLUE_GREEN, LINEAR, CANARY,
lifecycle hooks): following a service deployment and steering it.

    steering.py     continue a paused deployment, roll it back or stop it through ECS; which
                    deployment a step acts on; the stage rollback's choice between ECS's
                    rollback and the rolling one; listing a service's deployments
"""
