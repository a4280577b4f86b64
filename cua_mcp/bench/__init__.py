"""Tool-invocation benchmarking: tasks, setup steps, evaluators, agents, the runner, metrics and reports.

A client of the server, beside it: it starts servers and talks MCP to them like any agent.
"""
