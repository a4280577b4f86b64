"""GUI-only against element-first on the same real tasks, in one run: calls, text characters, images and
bytes a model receives, and whether the outcome (checked outside the server) was reached.

Each task runs twice on a fresh sandbox desktop with its own cua-mcp server over stdio: once by a
scripted GUI-only agent (screenshots, coordinates, keys), once by a scripted element-first agent
(snapshot/find, refs, menu_select, file_dialog, set_value). See benchmarks/agent_tasks.py.

    .venv/bin/python -m benchmarks.bench_agent_tasks
"""

from __future__ import annotations

import argparse

from benchmarks.agent_tasks import TASKS, Agent, Tally, Task
from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import wait_until
from tests.support.mcp_client import attached_server

WAYS = ("GUI-only", "element-first")


def run(task: Task, way: str) -> tuple[Tally, bool]:
    with SandboxSession(SandboxConfig()) as session:
        task.setup(session)
        with attached_server(session) as client:
            agent = Agent(client)
            (task.gui if way == "GUI-only" else task.refs)(agent, session)
            try:
                done = bool(wait_until(lambda: task.check(session), timeout=15, what=task.name))
            except AssertionError:
                done = False
    return agent.tally, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", help="run only tasks whose name contains this")
    args = parser.parse_args()
    rows = []
    for task in TASKS:
        if args.task and args.task not in task.name:
            continue
        for way in WAYS:
            tally, done = run(task, way)
            rows.append((task.name, way, tally, done))
            print(f"{task.name} / {way}: {tally.calls} calls, {' '.join(tally.log)}", flush=True)
    print("\n| task | way | calls | text characters | images | bytes | outcome |")
    print("|---|---|---|---|---|---|---|")
    for name, way, t, done in rows:
        print(
            f"| {name} | {way} | {t.calls} | {t.chars:,} | {t.images} | {t.bytes:,} | {'done' if done else 'FAILED'} |"
        )
    for way in WAYS:
        mine = [t for _, w, t, _ in rows if w == way]
        print(
            f"| all | {way} | {sum(t.calls for t in mine)} | {sum(t.chars for t in mine):,} | "
            f"{sum(t.images for t in mine)} | {sum(t.bytes for t in mine):,} | "
            f"{sum(d for _, w, _, d in rows if w == way)} of {len(mine)} done |"
        )


if __name__ == "__main__":
    main()
