"""`cua-mcp bench ...`: run a task suite, export its trajectories, re-render its report.

    cua-mcp bench run examples/tasks --parallel 4 --tools gui --tools all
    cua-mcp bench run path/to/osworld/examples --osworld --cache path/to/cache --offline
    cua-mcp bench export --osworld bench-results/RUN osworld-results
    cua-mcp bench report bench-results/RUN

Ctrl-C stops a run cleanly: running tasks are cancelled, every desktop is torn down, and the
report of what finished is written (exit status 130).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from cua_mcp.bench.agents import AGENTS, make_agent
from cua_mcp.bench.agents.base import Agent
from cua_mcp.bench.report import load_results, write_html, write_results
from cua_mcp.bench.results import TaskResult, summarize
from cua_mcp.bench.runner import Executor, LocalExecutor, RunOptions, tool_selection
from cua_mcp.bench.tasks import Task, TaskFormatError, load_tasks
from cua_mcp.server.cli import screen_size

log = logging.getLogger("cua_mcp.bench")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cua-mcp bench", description="Benchmark agents on desktop tasks.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run tasks and write results.json and report.html")
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="task files or folders of them")
    run.add_argument("--osworld", action="store_true", help="read every file as OSWorld's task JSON")
    run.add_argument("--agent", default="replay", help=f"{', '.join(AGENTS)}, or package.module:Class")
    run.add_argument("--agent-command", metavar="CMD", help="the program the command agent starts for each task")
    run.add_argument(
        "--tools",
        action="append",
        metavar="gui|all|GROUPS",
        help="tool groups offered to the agent (repeat to run the suite once per selection, side by side "
        "in the report); default: the server's defaults",
    )
    run.add_argument("--parallel", type=int, default=1, metavar="N", help="desktops side by side (1)")
    run.add_argument(
        "--executor", default="local", help="local (default), ray (see --address), or package.module:Class"
    )
    run.add_argument(
        "--address", metavar="HOST:PORT", help="--executor ray: the cluster's address (default RAY_ADDRESS)"
    )
    run.add_argument(
        "--agent-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option for a model agent (mode, model, base_url, keep_images, token_budget, ...); repeatable",
    )
    run.add_argument("--temperature", type=float, help="model agents: sampling temperature")
    run.add_argument("--max-tokens", type=int, help="model agents: output tokens per model turn")
    run.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default=None,
        help="how the agent reaches the server: http (default, the server in this process) or stdio (a child process)",
    )
    run.add_argument("--out", type=Path, help="output folder (default bench-results/<time>)")
    run.add_argument("--cache", type=Path, help="folder of downloads (default: a 'cache' folder beside the tasks)")
    run.add_argument("--offline", action="store_true", help="never download: files must be in the cache")
    run.add_argument("--only", action="append", default=[], metavar="ID", help="run only this task (repeatable)")
    run.add_argument("--max-steps", type=int, help="step limit for every task (default: each task's)")
    run.add_argument("--time-limit", type=float, help="seconds per task (default: each task's)")
    run.add_argument("--screen", type=screen_size, default=(1280, 800), metavar="WxH", help="sandbox size (1280x800)")
    run.add_argument("--no-progress", action="store_true", help="a line per task instead of a progress bar")
    run.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    export = sub.add_parser("export", help="write a run's trajectories in another layout")
    export.add_argument("--osworld", action="store_true", required=True, help="OSWorld's traj.jsonl layout")
    export.add_argument("run_dir", type=Path)
    export.add_argument("out_dir", type=Path)
    report = sub.add_parser("report", help="re-render a run's report.html from its results.json")
    report.add_argument("run_dir", type=Path)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export":
        from cua_mcp.bench.export import export_osworld

        count = export_osworld(args.run_dir, args.out_dir)
        print(f"exported {count} task(s) to {args.out_dir}")
        return 0
    if args.command == "report":
        path = write_html(args.run_dir, load_results(args.run_dir))
        print(path)
        return 0
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    try:
        tasks = load_tasks(args.paths, True if args.osworld else None, args.only)
        selections = [tool_selection(spec) for spec in args.tools or ["default"] if spec != "default"] or [None]
        agent = make_agent(args.agent)
        agent_options = _agent_options(args)
    except (TaskFormatError, ValueError, ImportError, AttributeError) as exc:
        print(f"cua-mcp bench: {exc}", file=sys.stderr)
        return 2
    out = args.out or Path("bench-results") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    cache = args.cache or next((p / "cache" for p in args.paths if (p / "cache").is_dir()), None)
    transport = args.transport or "http"
    options = []
    for selection in selections:
        option = RunOptions(
            out_dir=out if len(selections) == 1 else out / (selection[1] if selection else "default"),
            transport=transport,
            cache_dir=cache,
            offline=args.offline,
            screen=args.screen,
            max_steps=args.max_steps,
            time_limit=args.time_limit,
            agent_options=agent_options,
        )
        if selection is not None:
            option.groups, option.tools_label = selection
        options.append(option)
    meta = {
        "agent": agent.name,
        "tasks": len(tasks),
        "parallel": args.parallel,
        "executor": args.executor,
        "transport": transport,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({platform.machine()})",
    }
    runs, interrupted = asyncio.run(_run_all(tasks, agent, options, args, meta))
    path = write_results(out, runs, meta)
    for run in runs:
        _print_summary(run["tools"], run["tasks"])
    print(f"report: {path}" + (" (partial: interrupted)" if interrupted else ""))
    return 130 if interrupted else 0


def _agent_options(args: argparse.Namespace) -> dict[str, object]:
    """The agent's options from --agent-command, --agent-option KEY=VALUE, --temperature and --max-tokens."""
    options: dict[str, object] = {}
    for item in args.agent_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--agent-option {item!r}: write KEY=VALUE")
        options[key.strip()] = value
    given = {"command": args.agent_command, "temperature": args.temperature, "max_tokens": args.max_tokens}
    options.update((key, value) for key, value in given.items() if value is not None)
    return options


def make_executor(name: str, parallel: int, address: str | None = None) -> Executor:
    """`local`, `ray` (on the cluster at `address`), or "package.module:Class" for an executor of your own
    (constructed with `parallel`)."""
    if name == "local":
        return LocalExecutor(parallel)
    if name == "ray":
        from cua_mcp.bench.ray_executor import RayExecutor

        return RayExecutor(parallel, address)
    module, _, cls = name.partition(":")
    return getattr(importlib.import_module(module), cls)(parallel)


async def _run_all(
    tasks: list[Task], agent: Agent, options: list[RunOptions], args: argparse.Namespace, meta: dict
) -> tuple[list[dict], bool]:
    """Run the suite once per tool selection; on cancellation (Ctrl-C) keep what finished."""
    from cua_mcp.bench.progress import Progress

    runs: list[dict] = []
    started = time.monotonic()
    interrupted = False
    with Progress(len(tasks) * len(options), bar=not args.no_progress and sys.stderr.isatty()) as progress:
        for option in options:
            done: list[TaskResult] = []
            runs.append({"tools": option.tools_label, "tasks": done})
            executor = make_executor(args.executor, args.parallel, args.address)
            if isinstance(executor, LocalExecutor):
                executor.on_start = progress.started
            try:
                async for result in executor.run(tasks, agent, option):
                    done.append(result)
                    progress.finished(result)
            except asyncio.CancelledError:
                interrupted = True
            if interrupted:
                finished = {r.id for r in done}
                done.extend(
                    TaskResult(t.id, "cancelled", tools=option.tools_label) for t in tasks if t.id not in finished
                )
                break
    order = {t.id: i for i, t in enumerate(tasks)}
    for run in runs:
        run["tasks"].sort(key=lambda r: order.get(r.id, 0))
    meta["wall_s"] = round(time.monotonic() - started, 2)
    meta["partial"] = interrupted
    return runs, interrupted


def _print_summary(label: str, results: list[TaskResult]) -> None:
    s = summarize(results)
    print(
        f"tools {label}: {s['passed']}/{s['ran']} passed (Acc {s['acc']}%, TIR {s['tir']}%, ACS {s['acs']}), "
        f"{s['env_errors']} environment errors, {s['unsupported']} unsupported, {s['cancelled']} cancelled; "
        f"{s['calls']} calls, server p50 {s['server_ms_p50']} ms, client p50 {s['client_ms_p50']} ms; "
        f"setup p50 {s['setup_s_p50']} s"
    )
    for r in results:
        if r.status != "passed":
            print(f"  {r.id}: {r.status}: {r.detail[:300]}")
