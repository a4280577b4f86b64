"""Agents the benchmark can run: each is one module implementing `base.Agent`.

`AGENTS` maps a name (`--agent NAME`) to "module:Class"; a class is imported only when chosen, so
an agent's own dependencies (a model provider's SDK) are needed only by those who run it.
"""

from __future__ import annotations

import importlib

from cua_mcp.bench.agents.base import Agent

AGENTS = {
    "replay": "cua_mcp.bench.agents.replay:ReplayAgent",
    "command": "cua_mcp.bench.agents.command:CommandAgent",
    "anthropic": "cua_mcp.bench.agents.anthropic:AnthropicAgent",
    "openai": "cua_mcp.bench.agents.openai:OpenAIAgent",
}


def make_agent(name: str) -> Agent:
    """The agent registered as `name`, or a "package.module:Class" path for one of your own."""
    target = AGENTS.get(name, name)
    if ":" not in target:
        raise ValueError(f"unknown agent {name!r}: choose {', '.join(AGENTS)} or give 'package.module:Class'")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)()
