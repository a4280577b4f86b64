"""`cua-mcp bench export --osworld RUN OUT`: a run's trajectories in OSWorld's result layout.

OSWorld keeps each example's results in `<out>/<domain>/<example id>/`: `traj.jsonl` with one line a
step (`step_num`, `action_timestamp`, `action`, `response`, `reward`, `done`, `info`,
`screenshot_file`), the screenshots as `step_<n>_<timestamp>.png`, and `result.txt` with the score.
A call that only looked has no screenshot of its own: the screen is as the last action left it,
so its line names that screenshot.
"""

from __future__ import annotations

import json
from datetime import datetime
from io import BytesIO
from pathlib import Path

from PIL import Image

from cua_mcp.bench.report import load_results
from cua_mcp.bench.results import TaskResult

DOMAIN = "cua-mcp"


def export_osworld(run_dir: Path, out_dir: Path) -> int:
    """Write every task of the run at `run_dir` in OSWorld's layout under `out_dir`; the number written."""
    data = load_results(run_dir)
    written = 0
    for run in data["runs"]:
        domain = DOMAIN if len(data["runs"]) == 1 else f"{DOMAIN}-{run['tools']}"
        for task_data in run["tasks"]:
            task = TaskResult.from_json(task_data)
            _export_task(run_dir / task.folder, task, out_dir / domain / task.id)
            written += 1
    return written


def _export_task(source: Path, task: TaskResult, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    lines = []
    shown: str | None = None
    for index, step in enumerate(task.steps, 1):
        stamp = _stamp(step.time)
        if step.screenshot and (source / step.screenshot).exists():
            shown = f"step_{index}_{stamp}.png"
            with Image.open(BytesIO((source / step.screenshot).read_bytes())) as image:
                image.save(target / shown, "PNG")
        last = index == len(task.steps)
        lines.append(
            {
                "step_num": index,
                "action_timestamp": stamp,
                "action": {"tool": step.tool, "arguments": step.arguments},
                "response": step.text,
                "reward": task.score if last else 0,
                "done": last,
                "info": {"outcome": step.outcome, "server_ms": step.server_ms, "client_ms": step.client_ms},
                "screenshot_file": shown,
            }
        )
    (target / "traj.jsonl").write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    (target / "result.txt").write_text(f"{task.score}\n")


def _stamp(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y%m%d@%H%M%S")
    except ValueError:
        return "00000000@000000"
