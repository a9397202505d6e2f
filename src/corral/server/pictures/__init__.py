"""Pictures of executions and deployments for the web UI, as JSON the UI draws in SVG.

- `graph`: a pipeline's shape (stages, step groups, parallel branches, looping iterations and
  rollback steps) from an execution's snapshot; the UI colours it with the steps' live states.
- `timeline`: step boundaries and the ECS service events the steps logged, on one time axis.
- `traffic`: listener -> rules -> target groups (weights, target health) -> services, as AWS
  says now, for the services an execution's stages deployed.
- `charts`: each service's deployments (duration, outcome) over time, from stored executions.
- `routes`: the API routes (`/api/v1/executions/{id}/graph`, ...).
"""
