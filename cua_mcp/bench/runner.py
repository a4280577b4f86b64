"""Running tasks: `run_task` is the unit (one task on a fresh sandbox desktop, start to score);
an executor runs many of them (`LocalExecutor`: N desktops side by side on this machine; others,
such as a Ray executor, run the same `run_task` elsewhere).

run_task: start a sandbox desktop with its own workspace, run the setup steps (a failure there is
an environment error), start the task's MCP server attached to it (recording, with only the chosen
tool groups), hand the agent a connected client, stop it at the step or time limit, score the
task while the desktop is still up, tear everything down, and return the result with its
trajectory; the task's folder keeps the recording's screenshots.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import multiprocessing
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mcp.types import CallToolResult, ImageContent, TextContent

from cua_mcp.bench.agents.base import Agent, AgentContext, AgentResult, StepLimitReached
from cua_mcp.bench.env import EnvironmentFailure, TaskEnv
from cua_mcp.bench.evaluators import EvalContext, Outcome, score
from cua_mcp.bench.results import Status, StepRecord, TaskResult
from cua_mcp.bench.served import Transport, serve
from cua_mcp.bench.tasks import Task
from cua_mcp.errors import CuaError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.launch import LaunchConfig
from cua_mcp.sandbox.session import SandboxConfig
from cua_mcp.server.recording import RECORDING_LOG, screenshot_name
from cua_mcp.tools._registry import DEFAULT_GROUPS, GROUPS

log = logging.getLogger(__name__)

GUI_SELECTION = frozenset({"observe", "input", "windows"})
_REPORT_TEXT = 4000  # characters of a result kept in the report


@dataclass
class RunOptions:
    """How every task of a run is run."""

    out_dir: Path
    groups: frozenset[str] = DEFAULT_GROUPS
    tools_label: str = "default"
    transport: Transport = "http"
    cache_dir: Path | None = None
    offline: bool = False
    screen: tuple[int, int] = (1280, 800)
    max_steps: int | None = None  # overrides the task's
    time_limit: float | None = None  # seconds; overrides the task's
    agent_options: dict[str, Any] = field(default_factory=dict)


def tool_selection(spec: str) -> tuple[frozenset[str], str]:
    """`--tools`: gui (observe, input, windows), all (every group, shell included) or GROUPS (comma-separated)."""
    if spec == "gui":
        return GUI_SELECTION, "gui"
    if spec == "all":
        return frozenset(GROUPS), "all"
    names = frozenset(n.strip() for n in spec.split(",") if n.strip())
    unknown = names - set(GROUPS)
    if unknown or not names:
        raise ValueError(f"--tools {spec!r}: use gui, all, or groups from {', '.join(GROUPS)}")
    return names, ",".join(sorted(names))


# ----- one task ----------------------------------------------------------------------------------


class _Trajectory:
    """The client side of the agent's calls: step count, limit, round-trip time and what came back."""

    def __init__(self, call: Callable[[str, dict[str, Any]], Awaitable[CallToolResult]], max_steps: int) -> None:
        self._call = call
        self.max_steps = max_steps
        self.round_trips: list[tuple[str, float, str, int, int]] = []  # tool, ms, text, chars, image bytes

    async def call(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        if len(self.round_trips) >= self.max_steps:
            raise StepLimitReached(f"the step limit ({self.max_steps}) is used up")
        started = time.perf_counter()
        result = await self._call(name, arguments)
        elapsed = (time.perf_counter() - started) * 1000
        text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
        images = sum(len(base64.b64decode(c.data)) for c in result.content if isinstance(c, ImageContent))
        self.round_trips.append((name, elapsed, text, len(text), images))
        return result


def new_result(task: Task, agent: Agent, options: RunOptions, status: Status = "failed") -> TaskResult:
    """A task's result before it has run (an executor that loses a task reports it through this too)."""
    return TaskResult(
        id=task.id,
        status=status,
        tools=options.tools_label,
        agent=agent.name,
        tool_beneficial=task.tool_beneficial,
        infeasible=task.infeasible,
        folder=f"tasks/{task.id}",
    )


async def run_task(task: Task, agent: Agent, options: RunOptions) -> TaskResult:
    """Run one task on a fresh desktop and score it (see the module's docstring)."""
    folder = options.out_dir / "tasks" / task.id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    result = new_result(task, agent, options)
    if task.unsupported:
        result.status = "unsupported"
        result.detail = f"needs what the harness lacks: {', '.join(task.unsupported)}"
        return result
    started = time.monotonic()
    width, height = options.screen
    desktop = await asyncio.to_thread(
        Desktop.start_sandbox, SandboxConfig(width=width, height=height), None, LaunchConfig()
    )
    env = TaskEnv(desktop, task.id, task.folder, options.cache_dir, options.offline)
    try:
        result.desktop_s = round(time.monotonic() - started, 3)
        # The server comes up while the setup steps run (over stdio that is a Python start-up).
        setup = asyncio.create_task(_set_up(task, env, result, started))
        try:
            trajectory = await _run_agent(task, agent, options, env, folder, result, setup)
        except EnvironmentFailure as exc:  # the task's server could not start
            result.status, result.detail = "env_error", str(exc)
            trajectory = None
        finally:
            setup.cancel()
        if trajectory is not None:
            result.steps = _steps(folder / "recording", trajectory, desktop)
    finally:
        env.close()
        await asyncio.shield(asyncio.to_thread(desktop.close))
        result.wall_s = round(time.monotonic() - started, 3)
        (folder / "result.json").write_text(json.dumps(result.to_json(), indent=1, ensure_ascii=False))
    return result


_START_LOCKS: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _sandbox_start_lock() -> asyncio.Lock:
    """One sandbox starts at a time in a process: two starting at once can end with one of them
    refusing this process's own X connections ("Invalid MIT-MAGIC-COOKIE-1 key")."""
    loop = asyncio.get_running_loop()
    return _START_LOCKS.setdefault(loop, asyncio.Lock())


async def _set_up(task: Task, env: TaskEnv, result: TaskResult, started: float) -> bool:
    """Run the setup steps; a failure marks the task as an environment error."""
    try:
        for step in task.setup:
            await step.run(env)
    except (EnvironmentFailure, CuaError, OSError) as exc:
        result.status, result.detail = "env_error", f"setup failed: {exc}"
        return False
    result.setup_s = round(time.monotonic() - started, 3)
    return True


async def _run_agent(
    task: Task,
    agent: Agent,
    options: RunOptions,
    env: TaskEnv,
    folder: Path,
    result: TaskResult,
    setup: asyncio.Task[bool],
) -> _Trajectory | None:
    """Start the server, wait for the setup, run the agent and score the task; None if setup failed."""
    max_steps = options.max_steps or task.max_steps
    limit = options.time_limit or task.time_limit
    record = folder / "recording"
    async with serve(env.desktop, options.groups, record, options.transport, folder / "server.log") as served:
        if not await setup:
            return None
        tools = (await served.client.list_tools()).tools
        trajectory = _Trajectory(served.client.call_tool, max_steps)
        ctx = AgentContext(
            task_id=task.id,
            instruction=task.instruction,
            tools=tools,
            call_tool=trajectory.call,
            max_steps=max_steps,
            deadline=time.monotonic() + limit,
            out_dir=folder,
            server_url=served.url,
            server_token=served.token,
            solution=task.solution,
            options=options.agent_options,
        )
        agent_started = time.monotonic()
        try:
            ended = await asyncio.wait_for(agent.run(ctx), limit)
        except TimeoutError:
            ended = AgentResult("time_limit", f"stopped after {limit:g} s")
        except StepLimitReached as exc:
            ended = AgentResult("step_limit", str(exc))
        except Exception as exc:  # an agent's own failure is its result, not the harness's
            log.exception("agent %s failed on %s", agent.name, task.id)
            ended = AgentResult("error", f"{type(exc).__name__}: {exc}")
        result.agent_s = round(time.monotonic() - agent_started, 3)
        result.agent_status, result.agent_message = ended.status, ended.message
        result.usage = ended.usage
        outcome = await _score(task, env, ended)
    result.score, result.detail = outcome.score, outcome.detail
    result.status = "error" if ended.status == "error" else ("passed" if outcome.passed else "failed")
    return trajectory


async def _score(task: Task, env: TaskEnv, ended: AgentResult) -> Outcome:
    if ended.status == "infeasible" and not task.infeasible:
        # As OSWorld scores it: declaring a feasible task infeasible fails it, whatever the files say.
        return Outcome(0.0, "the agent declared a feasible task infeasible")
    return await score(task.evaluator, EvalContext(env, ended.status))  # type: ignore[arg-type]


def _steps(record: Path, trajectory: _Trajectory, desktop: Desktop) -> list[StepRecord]:
    """The trajectory from the server's recording, with the client's round trips laid over it."""
    groups = tool_groups(desktop)
    steps: list[StepRecord] = []
    log_path = record / RECORDING_LOG
    lines = log_path.read_text(encoding="utf-8").splitlines() if log_path.exists() else []
    for index, line in enumerate(lines):
        call = json.loads(line)
        step = call["step"]
        shot = record / screenshot_name(step)
        record_ = StepRecord(
            step=step,
            tool=call["tool"],
            arguments=call.get("arguments") or {},
            outcome=call["outcome"],
            text=(call.get("text") or call.get("error") or "")[:_REPORT_TEXT],
            text_chars=call.get("result_chars") or len(call.get("error") or ""),
            image_bytes=call.get("image_bytes") or 0,
            server_ms=call.get("duration_ms"),
            group=groups.get(call["tool"], ""),
            screenshot=f"recording/{shot.name}" if shot.exists() else None,
            time=call.get("time", ""),
        )
        if index < len(trajectory.round_trips) and trajectory.round_trips[index][0] == record_.tool:
            _, round_trip, text, chars, images = trajectory.round_trips[index]
            record_.client_ms = round(max(0.0, round_trip - (record_.server_ms or 0.0)), 2)
            record_.text, record_.text_chars, record_.image_bytes = text[:_REPORT_TEXT], chars, images
        steps.append(record_)
    return steps


_TOOL_GROUPS: dict[str, str] = {}  # the catalog is the same for every desktop: built once


def tool_groups(desktop: Desktop) -> dict[str, str]:
    """Tool name -> group, from the server's own catalog (every group)."""
    if not _TOOL_GROUPS:
        from cua_mcp.server.app import build_server

        _, registrar = build_server(desktop, groups=GROUPS)
        _TOOL_GROUPS.update((e.name, e.group) for e in registrar.catalog)
    return _TOOL_GROUPS


# ----- many tasks --------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs `run_task` for each task, yielding results as they finish (any order)."""

    def run(self, tasks: list[Task], agent: Agent, options: RunOptions) -> AsyncIterator[TaskResult]: ...


class LocalExecutor:
    """Up to `parallel` tasks at once on this machine, each on its own sandbox desktop.

    With more than one at a time, the tasks run in `parallel` worker processes, so they use every core
    for their Python work; a worker runs one task after another (each on a fresh desktop), which spares
    each task the 1.5 s of CPU a new process spends importing the server."""

    def __init__(self, parallel: int = 1, on_start: Callable[[Task], None] | None = None) -> None:
        self.parallel = max(1, parallel)
        self.on_start = on_start

    async def run(self, tasks: list[Task], agent: Agent, options: RunOptions) -> AsyncIterator[TaskResult]:
        queue: asyncio.Queue[TaskResult] = asyncio.Queue()
        slots = asyncio.Semaphore(self.parallel)
        pool = (
            ProcessPoolExecutor(self.parallel, mp_context=multiprocessing.get_context("spawn"))
            if self.parallel > 1
            else None
        )
        agent_path = f"{type(agent).__module__}:{type(agent).__qualname__}"

        async def one(task: Task) -> None:
            async with slots:
                if self.on_start is not None:
                    self.on_start(task)
                try:
                    if pool is None:
                        result = await run_task(task, agent, options)
                    else:
                        loop = asyncio.get_running_loop()
                        data = await loop.run_in_executor(
                            pool, _run_in_process, task.source, task.format, agent_path, options
                        )
                        result = TaskResult.from_json(data)
                except Exception as exc:  # a harness bug must cost one task, never hang the run
                    log.exception("task %s broke the runner", task.id)
                    result = TaskResult(task.id, "error", detail=f"the runner failed: {type(exc).__name__}: {exc}")
                await queue.put(result)

        workers = [asyncio.create_task(one(t)) for t in tasks]
        try:
            for _ in tasks:
                yield await queue.get()
        finally:
            for worker in workers:
                worker.cancel()
            # Each cancelled task tears its desktop down in its own `finally` before this returns; a
            # task in a process does so there (Ctrl-C reaches the whole process group).
            await asyncio.gather(*workers, return_exceptions=True)
            if pool is not None:
                await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def _run_in_process(source: Path, fmt: str, agent_path: str, options: RunOptions) -> dict[str, Any]:
    """`run_task` in a worker process: the task is read again from its file, the agent made again."""
    from cua_mcp.bench.agents import make_agent
    from cua_mcp.bench.tasks import load_task

    task = load_task(source, osworld=fmt == "osworld")
    try:
        return asyncio.run(run_task(task, make_agent(agent_path), options)).to_json()
    except KeyboardInterrupt:  # Ctrl-C: the desktop is down already (run_task's finally)
        return TaskResult(task.id, "cancelled", tools=options.tools_label).to_json()
