"""What a run produces: a `TaskResult` per task (with its trajectory) and the metrics over a run.

Metrics follow OSWorld-MCP: Acc (tasks passed over tasks run), TIR (tool-beneficial tasks where a
non-GUI tool was used, plus the other tasks where none was, over tasks run) and ACS (average steps
of the passed tasks); and beyond: tool calls by group, latency per call split into server time (the
tool itself) and client time (transport and harness), observation characters and image bytes.
Tasks that could not run (environment errors, unsupported) are counted apart, not as failures.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# Tool groups a person's hands and eyes stand for; any other group is an API tool (OSWorld-MCP's "tool").
GUI_GROUPS = frozenset({"observe", "input", "windows"})

Status = Literal["passed", "failed", "env_error", "unsupported", "error", "cancelled"]
RAN = ("passed", "failed", "error")  # statuses of tasks the agent actually ran


@dataclass
class StepRecord:
    """One tool call of a trajectory: from the server's recording, with the client's timing."""

    step: int
    tool: str
    arguments: dict[str, Any]
    outcome: str  # "ok" | "error"
    text: str  # what the model read (capped for the report)
    text_chars: int = 0
    image_bytes: int = 0
    server_ms: float | None = None
    client_ms: float | None = None  # round trip minus server time: transport, SDK, harness
    group: str = ""
    screenshot: str | None = None  # relative to the task's folder
    time: str = ""


@dataclass
class TaskResult:
    id: str
    status: Status
    score: float = 0.0
    detail: str = ""
    tools: str = ""  # the tool selection label (gui, all, or groups)
    agent: str = ""
    agent_status: str = ""
    agent_message: str = ""
    tool_beneficial: bool = False
    infeasible: bool = False
    desktop_s: float | None = None  # sandbox desktop up
    setup_s: float | None = None  # desktop up and every setup step done (apps ready)
    agent_s: float | None = None
    wall_s: float | None = None
    steps: list[StepRecord] = field(default_factory=list)
    folder: str = ""  # the task's output folder, relative to the run's
    usage: dict[str, int] = field(default_factory=dict)  # a model agent's input/output tokens, images, requests
    node: str = ""  # the Ray node that ran it (empty in a local run)
    attempts: int = 1  # 2 when its node was lost and the Ray executor ran it again

    @property
    def used_api_tool(self) -> bool:
        return any(s.group and s.group not in GUI_GROUPS for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["used_api_tool"] = self.used_api_tool
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        data = {k: v for k, v in data.items() if k != "used_api_tool"}
        data["steps"] = [StepRecord(**s) for s in data.get("steps", [])]
        return cls(**data)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def summarize(results: list[TaskResult]) -> dict[str, Any]:
    """The run's metrics (one tool selection): Acc, TIR, ACS and the cost figures."""
    ran = [r for r in results if r.status in RAN]
    passed = [r for r in ran if r.status == "passed"]
    steps = [s for r in ran for s in r.steps]
    by_group: dict[str, int] = {}
    for s in steps:
        by_group[s.group or "?"] = by_group.get(s.group or "?", 0) + 1
    tir_hits = sum(1 for r in ran if r.used_api_tool == r.tool_beneficial)
    server = [s.server_ms for s in steps if s.server_ms is not None]
    client = [s.client_ms for s in steps if s.client_ms is not None]
    setup = [r.setup_s for r in results if r.setup_s is not None]
    desktop = [r.desktop_s for r in results if r.desktop_s is not None]
    return {
        "tasks": len(results),
        "ran": len(ran),
        "passed": len(passed),
        "failed": sum(1 for r in ran if r.status != "passed"),
        "env_errors": sum(1 for r in results if r.status == "env_error"),
        "unsupported": sum(1 for r in results if r.status == "unsupported"),
        "cancelled": sum(1 for r in results if r.status == "cancelled"),
        "acc": round(100 * len(passed) / len(ran), 2) if ran else None,
        "tir": round(100 * tir_hits / len(ran), 2) if ran else None,
        "acs": round(statistics.mean(len(r.steps) for r in passed), 2) if passed else None,
        "calls": len(steps),
        "calls_by_group": dict(sorted(by_group.items())),
        "server_ms_p50": _pct(server, 0.5),
        "server_ms_p90": _pct(server, 0.9),
        "client_ms_p50": _pct(client, 0.5),
        "client_ms_p90": _pct(client, 0.9),
        "observation_chars": sum(s.text_chars for s in steps),
        "image_bytes": sum(s.image_bytes for s in steps),
        "input_tokens": sum(r.usage.get("input_tokens", 0) for r in results),
        "output_tokens": sum(r.usage.get("output_tokens", 0) for r in results),
        "desktop_s_p50": _pct(desktop, 0.5),
        "setup_s_p50": _pct(setup, 0.5),
        "setup_s_p90": _pct(setup, 0.9),
    }
