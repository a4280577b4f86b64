"""Any external agent program: started once per task with the server's address and the task.

The program gets, in its environment: CUA_MCP_URL (the task's streamable HTTP endpoint),
CUA_MCP_TOKEN (the bearer token it must send), CUA_TASK_ID, CUA_TASK_INSTRUCTION and CUA_MAX_STEPS.
It talks MCP to the server itself; its calls are counted from the server's recording, and it is
stopped when it goes past the step limit or the time limit. It ends the task by exiting: status 0
means done, 0 with a last output line `INFEASIBLE` means it declares the task infeasible, anything
else means it failed. Its output is kept in the task's folder as agent.log.

    cua-mcp bench run examples/tasks --agent command --agent-command "python my_agent.py" --transport http
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex

from cua_mcp.bench.agents.base import AgentContext, AgentResult
from cua_mcp.bench.served import stop_process
from cua_mcp.server.recording import RECORDING_LOG

_POLL_S = 0.2


class CommandAgent:
    name = "command"

    async def run(self, ctx: AgentContext) -> AgentResult:
        command = ctx.options.get("command")
        if not command:
            return AgentResult("error", "the command agent needs --agent-command 'PROGRAM ARGS'")
        if ctx.server_url is None:
            return AgentResult("error", "the command agent reaches the server over HTTP: run with --transport http")
        env = {
            **os.environ,
            "CUA_MCP_URL": ctx.server_url,
            "CUA_MCP_TOKEN": ctx.server_token or "",
            "CUA_TASK_ID": ctx.task_id,
            "CUA_TASK_INSTRUCTION": ctx.instruction,
            "CUA_MAX_STEPS": str(ctx.max_steps),
        }
        log_path = ctx.out_dir / "agent.log"
        with open(log_path, "wb") as output:
            process = await asyncio.create_subprocess_exec(
                *shlex.split(command), env=env, stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output
            )
        try:
            while process.returncode is None:
                if _calls(ctx) > ctx.max_steps:
                    return AgentResult("step_limit", f"the program went past {ctx.max_steps} calls and was stopped")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), _POLL_S)
        finally:
            await stop_process(process, grace=5)
        lines = log_path.read_text(errors="replace").strip().splitlines()
        last = lines[-1].strip() if lines else ""
        if process.returncode == 0:
            return AgentResult("infeasible" if last == "INFEASIBLE" else "done", last[:500])
        return AgentResult("fail", f"the program exited with status {process.returncode}: {last[:500]}")


def _calls(ctx: AgentContext) -> int:
    path = ctx.out_dir / "recording" / RECORDING_LOG
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0
