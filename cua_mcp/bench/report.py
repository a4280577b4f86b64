"""A run's report: `results.json` (everything, for programs) and `report.html` (for people).

The HTML file is static and opens from the file system: a summary table with the metrics (one
column per tool selection, as OSWorld-MCP sets GUI-only beside with-tools), then each task with
its trajectory as a strip of screenshots, each under the call made at that step, its arguments,
result and timing. Screenshots are linked from the tasks' folders, not embedded.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from cua_mcp.bench.results import StepRecord, TaskResult, summarize

RESULTS = "results.json"
REPORT = "report.html"

_METRICS = [
    ("tasks", "tasks"),
    ("ran", "ran"),
    ("passed", "passed"),
    ("acc", "Acc (%)"),
    ("tir", "TIR (%)"),
    ("acs", "ACS (steps)"),
    ("env_errors", "environment errors"),
    ("unsupported", "unsupported"),
    ("cancelled", "cancelled"),
    ("calls", "tool calls"),
    ("calls_by_group", "calls by group"),
    ("server_ms_p50", "server ms p50"),
    ("server_ms_p90", "server ms p90"),
    ("client_ms_p50", "client ms p50"),
    ("client_ms_p90", "client ms p90"),
    ("observation_chars", "observation characters"),
    ("image_bytes", "image bytes"),
    ("input_tokens", "model input tokens"),
    ("output_tokens", "model output tokens"),
    ("desktop_s_p50", "desktop up s p50"),
    ("setup_s_p50", "setup s p50"),
    ("setup_s_p90", "setup s p90"),
]


def write_results(out_dir: Path, runs: list[dict[str, Any]], meta: dict[str, Any]) -> Path:
    """Write results.json and report.html; `runs` are {"tools": label, "tasks": [TaskResult]}."""
    data = {
        "run": meta,
        "runs": [
            {"tools": r["tools"], "summary": summarize(r["tasks"]), "tasks": [t.to_json() for t in r["tasks"]]}
            for r in runs
        ],
    }
    (out_dir / RESULTS).write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return write_html(out_dir, data)


def load_results(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / RESULTS).read_text(encoding="utf-8"))


def write_html(out_dir: Path, data: dict[str, Any]) -> Path:
    """report.html beside results.json, from its data."""
    runs = data["runs"]
    parts = [_HEAD, f"<h1>cua-mcp benchmark: {_e(data['run'].get('agent', ''))}</h1>", _meta(data["run"])]
    parts.append(_summary_table(runs))
    for run in runs:
        tasks = [TaskResult.from_json(t) for t in run["tasks"]]
        parts.append(f"<h2>Tasks, tools: {_e(run['tools'])}</h2>")
        parts.append(_task_table(tasks))
        parts.extend(_task(t) for t in tasks)
    parts.append("</body></html>")
    path = out_dir / REPORT
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _meta(meta: dict[str, Any]) -> str:
    items = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in meta.items())
    return f'<ul class="meta">{items}</ul>'


def _summary_table(runs: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>tools: {_e(r['tools'])}</th>" for r in runs)
    rows = []
    for key, label in _METRICS:
        cells = []
        for r in runs:
            value = r["summary"].get(key)
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
            cells.append(f"<td>{_e('-' if value is None else value)}</td>")
        rows.append(f"<tr><th>{_e(label)}</th>{''.join(cells)}</tr>")
    return f'<table class="summary" id="summary"><tr><th>metric</th>{head}</tr>{"".join(rows)}</table>'


def _task_table(tasks: list[TaskResult]) -> str:
    rows = "".join(
        f'<tr class="{_e(t.status)}"><td><a href="#task-{_e(t.tools)}-{_e(t.id)}">{_e(t.id)}</a></td>'
        f"<td class=status>{_e(t.status)}</td><td>{t.score:g}</td><td>{len(t.steps)}</td>"
        f"<td>{'yes' if t.used_api_tool else 'no'}{' (beneficial)' if t.tool_beneficial else ''}</td>"
        f"<td>{_e(t.setup_s if t.setup_s is not None else '-')}</td><td>{_e(t.wall_s)}</td></tr>"
        for t in tasks
    )
    head = "<tr><th>task</th><th>status</th><th>score</th><th>steps</th><th>API tool used</th><th>setup s</th><th>wall s</th></tr>"
    return f'<table class="tasks">{head}{rows}</table>'


def _task(task: TaskResult) -> str:
    mark = {"passed": "✔", "failed": "✘"}.get(task.status, "•")
    steps = "".join(_step(task, s) for s in task.steps) or '<p class="none">no tool calls</p>'
    facts = (
        f"score {task.score:g} · agent {_e(task.agent_status)} · {len(task.steps)} steps · "
        f"setup {task.setup_s if task.setup_s is not None else '-'} s · wall {task.wall_s} s"
        + (" · tool-beneficial" if task.tool_beneficial else "")
        + (" · infeasible" if task.infeasible else "")
        + (f" · {task.usage.get('input_tokens', 0)}+{task.usage.get('output_tokens', 0)} tokens" if task.usage else "")
        + (f" · node {_e(task.node[:12])}" if task.node else "")
        + (f" · {task.attempts} attempts" if task.attempts > 1 else "")
    )
    return (
        f'<details class="task {task.status}" id="task-{_e(task.tools)}-{_e(task.id)}" open>'
        f"<summary>{mark} <b>{_e(task.id)}</b> <span class=status>{_e(task.status)}</span> {facts}</summary>"
        f'<p class="detail">{_e(task.detail)}</p>'
        + (f'<p class="detail">agent: {_e(task.agent_message)}</p>' if task.agent_message else "")
        + f'<div class="strip">{steps}</div></details>'
    )


def _step(task: TaskResult, step: StepRecord) -> str:
    image = (
        f'<a href="{_e(task.folder)}/{_e(step.screenshot)}"><img loading="lazy" '
        f'src="{_e(task.folder)}/{_e(step.screenshot)}" alt="screen after step {step.step}"></a>'
        if step.screenshot
        else '<div class="noshot">(no screenshot: this call only looked)</div>'
    )
    timing = f"server {step.server_ms if step.server_ms is not None else '-'} ms · client {step.client_ms if step.client_ms is not None else '-'} ms"
    size = f"{step.text_chars} chars" + (f" + {step.image_bytes} image bytes" if step.image_bytes else "")
    arguments = json.dumps(step.arguments, ensure_ascii=False)
    return (
        f'<div class="step {_e(step.outcome)}" data-step="{step.step}">{image}'
        f'<div class="call">#{step.step} <b>{_e(step.tool)}</b> <span class=group>{_e(step.group)}</span></div>'
        f'<pre class="args">{_e(arguments)}</pre><pre class="result">{_e(step.text)}</pre>'
        f'<div class="timing">{timing} · {size}</div></div>'
    )


_HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>cua-mcp benchmark report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
tr.passed .status{color:#17803d} tr.failed .status,tr.error .status{color:#b42318}
.meta{color:#555}
details.task{border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.4em .8em}
details.passed>summary .status{color:#17803d} details.failed>summary .status,details.error>summary .status{color:#b42318}
details.env_error>summary .status,details.unsupported>summary .status{color:#9a6700}
.detail{color:#555;margin:.3em 0}
.strip{display:flex;gap:.6em;overflow-x:auto;padding:.4em 0}
.step{flex:0 0 300px;border:1px solid #e3e3e3;border-radius:4px;padding:.3em;background:#fafafa}
.step.error{background:#fff1f0}
.step img{width:100%;display:block;border:1px solid #ddd}
.noshot{height:60px;color:#888;display:flex;align-items:center;justify-content:center;border:1px dashed #ccc}
pre{white-space:pre-wrap;word-break:break-word;max-height:10em;overflow:auto;font-size:12px;margin:.2em 0}
pre.args{color:#0b4f9c} .timing,.group{color:#666;font-size:12px}
</style></head><body>"""
