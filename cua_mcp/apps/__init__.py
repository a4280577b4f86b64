"""App APIs as plain Python (no MCP): the programs' own interfaces, which tool packs in `tools/` wrap."""
