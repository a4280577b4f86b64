"""The oracle: replays a task's `solution`, the fixed list of tool calls that solves it.

A string argument `"$ref(ROLE,NAME)"` is replaced by the ref of the first element `find` returns for
that role and name (an exact name preferred over a partial one), looked up just before the call, so solutions need not know refs.
A step `{"declare": "infeasible"}` ends the run with that status, as an agent saying so would.
"""

from __future__ import annotations

import re
from typing import Any

from mcp.types import TextContent

from cua_mcp.bench.agents.base import AgentContext, AgentResult

_REF = re.compile(r"^\$ref\(\s*([^,]+?)\s*,\s*(.+?)\s*\)$")


class ReplayAgent:
    name = "replay"

    async def run(self, ctx: AgentContext) -> AgentResult:
        solution = ctx.solution
        if not solution:
            return AgentResult("fail", "the task has no solution to replay")
        for number, step in enumerate(solution, 1):
            if step.declare is not None:
                return AgentResult(step.declare, f"declared at solution step {number}")
            try:
                arguments = {k: await _resolve(ctx, v) for k, v in step.arguments.items()}
            except LookupError as exc:
                return AgentResult("fail", f"solution step {number} ({step.tool}): {exc}")
            result = await ctx.call_tool(step.tool, arguments)
            if result.is_error:
                text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
                return AgentResult("fail", f"solution step {number} ({step.tool}) failed: {text}")
        return AgentResult("done", f"replayed {len(solution)} steps")


async def _resolve(ctx: AgentContext, value: Any) -> Any:
    if not isinstance(value, str) or not (match := _REF.match(value)):
        return value
    role, name = match[1], match[2]
    found = await ctx.call_tool("find", {"role": role, "name": name, "scope": "desktop"})
    elements = (found.structured_content or {}).get("elements") or []
    if found.is_error or not elements:
        raise LookupError(f"$ref({role},{name}): no such element on the desktop")
    exact = [e for e in elements if str(e.get("name", "")).casefold() == name.casefold()]
    return (exact or elements)[0]["ref"]
