"""cua-mcp: an MCP server that hands a sandboxed Linux desktop to a language model."""

__version__ = "0.1.0"
