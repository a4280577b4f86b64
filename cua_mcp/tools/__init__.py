"""The MCP-facing tools: one module per tool family, each with `register(registrar, desktop)`."""
