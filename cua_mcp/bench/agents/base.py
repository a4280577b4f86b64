"""The interface between the benchmark runner and an agent: one coroutine, one context, one result.

The runner owns the desktop, the server and the MCP session; an agent only decides which tool to
call next. Every call goes through `AgentContext.call_tool`, which is where the runner counts steps,
enforces the tool selection and the step limit, and records the trajectory. Writing a new agent is
one module with one class that has a `name` and an async `run`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from mcp.types import CallToolResult, Tool

# How an agent says it ended: "done" (it believes the task is solved), "infeasible" (it declares the
# task cannot be done, which OSWorld scores as success on infeasible tasks), "fail" (it gave up),
# "step_limit" / "time_limit" (the runner stopped it), "error" (the agent itself broke).
AgentStatus = Literal["done", "infeasible", "fail", "step_limit", "time_limit", "error"]


class StepLimitReached(Exception):
    """Raised by `AgentContext.call_tool` once the task's step limit is used up."""


@dataclass
class AgentContext:
    """What an agent gets for one task."""

    task_id: str
    instruction: str
    tools: list[Tool]  # the tools offered for this run (the runner's `--tools` selection applied)
    call_tool: Callable[[str, dict[str, Any]], Awaitable[CallToolResult]]  # one step; raises StepLimitReached
    max_steps: int
    deadline: float  # time.monotonic() by which the agent must have returned
    out_dir: Path  # the task's output folder: an agent may save its conversation here
    server_url: str | None = None  # the server's HTTP address, for agents that run as separate programs
    server_token: str | None = None  # the bearer token that address wants
    solution: list[Any] | None = None  # the task's known solution (`tasks.SolutionStep`s): for the replay oracle only
    options: dict[str, Any] = field(default_factory=dict)  # agent options from the command line


@dataclass
class AgentResult:
    status: AgentStatus
    message: str = ""
    usage: dict[str, int] = field(default_factory=dict)  # e.g. input_tokens, output_tokens, images


class Agent(Protocol):
    name: str

    async def run(self, ctx: AgentContext) -> AgentResult: ...
