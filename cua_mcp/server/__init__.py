"""The MCP side: building the server from tool modules, the CLI and the transports."""
