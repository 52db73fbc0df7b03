"""Investigation agents: alert parsing, the orchestrator, one module per specialist, tools and analysts."""
