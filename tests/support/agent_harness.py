"""Run an agent as the benchmark does: a task of the example suite through the runner (`run_example`), or,
for tests that need no task of their own, against a module's shared server (`run_agent`).

`run_agent` builds the `AgentContext` from a client's session: its tools, a `call_tool` that counts
steps and stops at the limit, and an output folder; it returns the agent's result and the calls made.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.types import CallToolResult

from cua_mcp.bench.agents.base import Agent, AgentContext, AgentResult, StepLimitReached
from cua_mcp.bench.results import TaskResult
from cua_mcp.bench.runner import RunOptions, run_task
from cua_mcp.bench.tasks import load_task
from tests.support.mcp_client import BlockingClient


@dataclass
class AgentRun:
    result: AgentResult
    calls: list[tuple[str, dict[str, Any], CallToolResult]] = field(default_factory=list)

    def tools_called(self) -> list[str]:
        return [name for name, _, _ in self.calls]


def run_agent(
    client: BlockingClient,
    agent: Agent,
    instruction: str,
    out_dir: Path,
    options: dict[str, Any] | None = None,
    max_steps: int = 15,
    seconds: float = 240,
) -> AgentRun:
    session = client.session
    assert session is not None
    calls: list[tuple[str, dict[str, Any], CallToolResult]] = []

    async def call_tool(name: str, arguments: dict[str, Any]) -> CallToolResult:
        if len(calls) >= max_steps:
            raise StepLimitReached(f"{max_steps} steps")
        result = await session.call_tool(name, arguments)
        calls.append((name, arguments, result))
        return result

    ctx = AgentContext(
        task_id="test",
        instruction=instruction,
        tools=client.list_tools(),
        call_tool=call_tool,
        max_steps=max_steps,
        deadline=time.monotonic() + seconds,
        out_dir=out_dir,
        options=options or {},
    )
    result = client._run(agent.run(ctx), timeout=seconds + 30)
    return AgentRun(result, calls)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"


def run_example(
    task_id: str, agent: Agent, out_dir: Path, options: dict[str, Any], max_steps: int | None = None
) -> TaskResult:
    """Run one task of the example suite with the benchmark's runner (a fresh desktop, the setup, the
    agent through a real MCP client, the evaluator), as `cua-mcp bench run --only TASK` does."""
    task = load_task(EXAMPLES / f"{task_id}.json")
    run = RunOptions(out_dir=out_dir, max_steps=max_steps, agent_options=options)
    return asyncio.run(run_task(task, agent, run))
