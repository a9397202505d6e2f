"""AWS access: client factory per connector, client-side rate budget, shared ECS poller."""
